import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cardiospike.serving.app import ModelLoadError

from .conftest import MakeApp, assert_error


def test_wrong_model_path_fails_at_start_up_with_the_reason(make_app: MakeApp, tmp_path: Path):
    app = make_app(model=tmp_path / "missing")
    with pytest.raises(ModelLoadError, match=r"cannot load the model from .*missing.*does not exist"), TestClient(app):
        pass


def test_not_a_model_folder_fails_at_start_up(make_app: MakeApp, tmp_path: Path):
    with pytest.raises(ModelLoadError, match=r"no manifest\.json"), TestClient(make_app(model=tmp_path)):
        pass


def test_not_ready_and_no_scoring_before_start_up(make_app: MakeApp):
    client = TestClient(make_app())  # not entered: the lifespan has not run, no model is loaded
    assert client.get("/health").json() == {"status": "ok"}
    assert_error(client.get("/ready"), 503)
    assert_error(client.post("/api/v1/predict", json={"study": "a", "sequence": [800]}), 503)


def test_docs_and_schema(client: TestClient):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) >= {"/api/v1/predict", "/api/v1/predict/batch", "/predict", "/health", "/ready", "/version"}
    for path in ("/api/v1/predict", "/api/v1/predict/batch", "/predict"):
        assert set(paths[path]["post"]["responses"]) >= {"200", "400", "413", "422", "503"}
        assert "401" not in paths[path]["post"]["responses"]  # no key configured: none required


def test_cors_only_for_configured_origins(make_app: MakeApp):
    with TestClient(make_app(cors_origins=["https://ok.example"])) as client:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-API-Key"}
        ok = client.options("/api/v1/predict", headers={"Origin": "https://ok.example", **preflight})
        assert ok.headers["access-control-allow-origin"] == "https://ok.example"
        other = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_no_cors_headers_by_default(client: TestClient):
    assert "access-control-allow-origin" not in client.get("/health", headers={"Origin": "https://a.org"}).headers


def test_serving_imports_no_training_stack_and_no_dask(tiny_model_dir: Path):
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from cardiospike.serving import Settings, create_app\n"
        "import cardiospike.serving.server\n"
        f"with TestClient(create_app(Settings(model={str(tiny_model_dir)!r}))) as c:\n"
        "    assert c.post('/api/v1/predict', json={'study': 'a', 'sequence': [800, 810]}).status_code == 200\n"
        "banned = ('cardiospike.training', 'cardiospike.search', 'cardiospike.engines', 'hydra', 'optuna', 'torch',\n"
        "          'lightning', 'dask', 'distributed')\n"
        "print(sorted(m for m in sys.modules if m.startswith(banned)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_docs_page_uses_no_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text
    asset = next(part.split('"')[0] for part in page.text.split('src="')[1:] if part.endswith(".js") or ".js" in part)
    assert client.get(asset).status_code == 200
