import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

import cardiospike.serving.scoring as scoring
from cardiospike import __version__


def test_health(client: TestClient):
    assert client.get("/health").json() == {"status": "ok"}


def test_ready_names_the_model(client: TestClient, tiny_model_dir: Path):
    manifest = json.loads((tiny_model_dir / "manifest.json").read_text())
    assert client.get("/ready").json() == {"status": "ready", "model_version": manifest["model_version"]}


def test_version_summarises_the_manifest(client: TestClient, tiny_model_dir: Path):
    manifest = json.loads((tiny_model_dir / "manifest.json").read_text())
    body = client.get("/version").json()
    assert body["package_version"] == __version__
    assert body["model_version"] == manifest["model_version"]
    assert body["threshold"] == manifest["postprocess"]["threshold"]
    assert body["feature_set"] == manifest["features"]
    assert body["cv_f1"] == manifest["cv"]["outer"]["f1"]
    assert body["training_data_sha256"] == manifest["training"]["data"]["sha256"]


def test_version_without_training_data(make_app, tiny_model_dir: Path, tmp_path: Path):
    # A copy of the tiny model whose manifest names no training data (a model trained in memory).
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    manifest = json.loads((model / "manifest.json").read_text())
    del manifest["training"]["data"]
    (model / "manifest.json").write_text(json.dumps(manifest))
    with TestClient(make_app(model=model)) as client:
        assert client.get("/version").json()["training_data_sha256"] is None


def test_health_fails_while_a_job_runs_for_longer_than_stuck_after(make_app, monkeypatch):
    """A job that never ends (a reader looping on some file) cannot be stopped: /health says so, for a restart."""
    release = threading.Event()
    started = threading.Event()

    def stuck_reader(*args, **kwargs):
        started.set()
        release.wait(timeout=30)  # bounded, should the test fail before it releases it
        raise ValueError("released")

    monkeypatch.setattr(scoring, "parse_recordings", stuck_reader)
    app = make_app(stuck_after=0.2)
    with TestClient(app) as client, ThreadPoolExecutor(1) as pool:
        upload = pool.submit(client.post, "/api/v1/recordings/parse", files={"file": ("a.txt", b"800\n")})
        assert started.wait(timeout=10)
        assert client.get("/health").status_code == 200  # running, not yet for longer than stuck_after
        time.sleep(0.3)
        stuck = client.get("/health")
        assert stuck.status_code == 503
        assert "a scoring job has run for more than 0.2 s" in stuck.json()["detail"]
        assert "setting stuck_after" in stuck.json()["detail"]
        release.set()
        assert upload.result(timeout=10).status_code == 422
        assert client.get("/health").json() == {"status": "ok"}
        assert len(app.state.jobs) == 0


def test_health_declares_its_503(client: TestClient):
    responses = client.get("/openapi.json").json()["paths"]["/health"]["get"]["responses"]
    assert "stuck_after" in responses["503"]["description"]
