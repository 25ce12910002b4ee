import json
from pathlib import Path

from fastapi.testclient import TestClient

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
