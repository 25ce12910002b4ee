"""Model artifacts at s3:// URLs: loaded over real HTTP from moto's S3 server, with the same checks as a folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cardiospike.artifact import ArtifactError, load_artifact, read_manifest, save_artifact
from cardiospike.cli import app
from cardiospike.data import simulate_recording
from cardiospike.detector import Detector, load_detector
from cardiospike.remote import RemoteError, RemoteFolder
from cardiospike.serving import Settings, create_app

pytest.importorskip("s3fs", reason="the 's3' extra is not installed")


def _fs() -> Any:
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True)


def test_load_from_s3_scores_like_the_local_folder(s3_model: str, tiny_model_dir: Path):
    remote, local = load_artifact(s3_model), load_artifact(tiny_model_dir)
    assert remote.manifest == local.manifest
    recording = simulate_recording(600, seed=3)
    a = Detector(remote).score(recording)
    b = Detector(local).score(recording)
    np.testing.assert_array_equal(a.proba, b.proba)
    np.testing.assert_array_equal(a.is_anomaly, b.is_anomaly)
    assert read_manifest(s3_model + "/")["model_version"] == local.model_version


def test_corrupt_object_is_a_checksum_error_naming_the_file(s3_model: str):
    key = s3_model.removeprefix("s3://") + "/lgbm.txt"
    fs = _fs()
    fs.pipe_file(key, fs.cat_file(key) + b"\n")
    with pytest.raises(ArtifactError, match=r"s3://cardiospike/models/tiny/lgbm\.txt is corrupt: its SHA-256"):
        load_artifact(s3_model)


def test_missing_model_file(s3_model: str):
    _fs().rm_file(s3_model.removeprefix("s3://") + "/lgbm.txt")
    with pytest.raises(ArtifactError, match=r"s3://cardiospike/models/tiny: model file lgbm\.txt is missing"):
        load_artifact(s3_model)


def test_missing_folder_manifest_and_bucket(s3_model: str):
    with pytest.raises(ArtifactError, match=r"model folder s3://cardiospike/models/nope does not exist"):
        load_artifact("s3://cardiospike/models/nope")
    with pytest.raises(ArtifactError, match=r"s3://cardiospike/models is not a model artifact: it has no manifest"):
        load_artifact("s3://cardiospike/models")
    with pytest.raises(ArtifactError, match=r"s3://no-such-bucket/models/tiny: the bucket 'no-such-bucket' does not"):
        load_artifact("s3://no-such-bucket/models/tiny")


def test_corrupt_manifest(s3_model: str):
    _fs().pipe_file(s3_model.removeprefix("s3://") + "/manifest.json", b"{not json")
    with pytest.raises(ArtifactError, match=r"s3://cardiospike/models/tiny/manifest\.json is corrupt: not valid JSON"):
        load_artifact(s3_model)


def test_manifest_naming_a_file_outside_the_folder(s3_model: str):
    fs, key = _fs(), s3_model.removeprefix("s3://") + "/manifest.json"
    manifest = json.loads(fs.cat_file(key))
    manifest["files"]["../other/lgbm.txt"] = "0" * 64
    fs.pipe_file(key, json.dumps(manifest).encode())
    with pytest.raises(ArtifactError, match="outside the model folder"):
        load_artifact(s3_model)


def test_unreachable_endpoint_fails_fast_with_the_reason(monkeypatch: pytest.MonkeyPatch):
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    # Failing fast is giving up after the retries of cardiospike.remote.S3_CONFIG, 2: three attempts in all, where
    # botocore's defaults make 5, with back-off (and s3fs could add retries of its own). Each attempt is counted where
    # botocore sends it.
    folder = RemoteFolder("s3://cardiospike/models/tiny")
    folder.fs.connect()
    attempts: list[str] = []
    folder.fs.s3.meta.events.register("before-send.s3", lambda request, **_: attempts.append(request.url))
    with pytest.raises(RemoteError, match="EndpointConnectionError"):
        folder.read("manifest.json")
    assert len(attempts) == 3, attempts
    assert all(url.startswith(f"http://127.0.0.1:{port}/") for url in attempts)
    with pytest.raises(ArtifactError) as info:
        load_artifact("s3://cardiospike/models/tiny")
    message = str(info.value)
    assert message.startswith("s3://cardiospike/models/tiny/manifest.json: cannot read it: EndpointConnectionError")
    assert f"127.0.0.1:{port}" in message
    assert "\n" not in message


def test_access_denied_names_the_credentials(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str):
    # moto accepts any credentials, so the store's refusal is simulated where s3fs reports it (PermissionError).
    folder = RemoteFolder("s3://cardiospike/models/tiny")

    def refuse(path: str) -> bytes:
        raise PermissionError("The AWS Access Key Id you provided does not exist in our records.")

    monkeypatch.setattr(folder.fs, "cat_file", refuse)
    with pytest.raises(RemoteError, match=r"manifest\.json: access denied \(The AWS .*AWS_ACCESS_KEY_ID"):
        folder.read("manifest.json")


def test_without_the_s3_extra_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch):
    import importlib

    known = importlib.import_module("fsspec.registry")._registry  # (fsspec.registry, the attribute, is a view)
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs -> ImportError
    # fsspec keeps the classes it has imported already: forget s3fs's, as in a process that never had it.
    monkeypatch.delitem(known, "s3", raising=False)
    with pytest.raises(ArtifactError, match=r"needs the 's3' extra .*pip install 'cardiospike\[s3\]'"):
        load_artifact("s3://cardiospike/models/tiny")


def test_save_to_s3_and_load_back(s3_endpoint: str, tiny_model_dir: Path):
    artifact = load_artifact(tiny_model_dir)
    url = save_artifact(artifact, "s3://cardiospike/models/saved/")
    assert url == "s3://cardiospike/models/saved"
    assert sorted(_fs().ls("cardiospike/models/saved", detail=False)) == [
        "cardiospike/models/saved/lgbm.txt",
        "cardiospike/models/saved/manifest.json",
    ]
    assert load_artifact(url).manifest["files"] == artifact.manifest["files"]


def test_detector_and_settings_take_a_url(s3_model: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    assert load_detector(s3_model).threshold == load_artifact(s3_model).threshold
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARDIOSPIKE_MODEL", s3_model)
    assert Settings().model == s3_model  # kept as the URL, not folded into a Path
    monkeypatch.setenv("CARDIOSPIKE_MODEL", "models/x")
    assert Settings().model == Path("models/x")
    monkeypatch.setenv("CARDIOSPIKE_MODEL", "")
    assert Settings().model is None


def test_app_with_an_s3_model_is_ready(s3_model: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARDIOSPIKE_MODEL", s3_model)
    with TestClient(create_app()) as client:  # settings from the environment, as every uvicorn worker reads them
        assert client.get("/ready").status_code == 200
        version = client.get("/version").json()
        assert version["model_version"] == load_artifact(s3_model).model_version
        answer = client.post("/api/v1/predict", json={"study": "p", "sequence": [800, 810, 790, 2400, 640, 800]})
        assert answer.status_code == 200


def test_app_with_a_bad_s3_model_does_not_start(s3_endpoint: str):
    from cardiospike.serving.app import ModelLoadError

    settings = Settings(_env_file=None, model="s3://cardiospike/models/absent")  # type: ignore[call-arg]
    with (
        pytest.raises(ModelLoadError, match=r"s3://cardiospike/models/absent does not exist"),
        TestClient(create_app(settings)),
    ):
        pass


def test_serve_with_a_bad_url_exits_2_with_one_line(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["serve", "--model", "s3://bad/url"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: s3://bad/url: the bucket 'bad' does not exist")
