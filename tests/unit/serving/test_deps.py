import pytest
from fastapi.testclient import TestClient

from .conftest import MakeApp, assert_error

BODY = {"study": "a", "sequence": [800, 810]}
CSV = ("r.csv", b"id,x\na,800\n")


@pytest.fixture(scope="module")
def keyed(make_app: MakeApp):
    with TestClient(make_app(api_key="s3cret")) as client:
        yield client


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}])
def test_predict_routes_need_the_key(keyed: TestClient, headers: dict[str, str]):
    assert "X-API-Key" in assert_error(keyed.post("/api/v1/predict", json=BODY, headers=headers), 401)["detail"]
    assert_error(keyed.post("/predict", json=BODY, headers=headers), 401)
    assert_error(keyed.post("/api/v1/predict/batch", files={"file": CSV}, headers=headers), 401)


def test_the_schema_declares_the_key_where_one_is_configured(keyed: TestClient):
    schema = keyed.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    for path in ("/api/v1/predict", "/api/v1/predict/batch", "/predict"):
        assert "401" in schema["paths"][path]["post"]["responses"]
        assert schema["paths"][path]["post"]["security"] == [{"APIKeyHeader": []}]
    assert "security" not in schema["paths"]["/health"]["get"]


def test_the_right_key_scores(keyed: TestClient):
    key = {"X-API-Key": "s3cret"}
    assert keyed.post("/api/v1/predict", json=BODY, headers=key).status_code == 200
    assert keyed.post("/predict", json=BODY, headers=key).status_code == 200
    assert keyed.post("/api/v1/predict/batch", files={"file": CSV}, headers=key).status_code == 200


@pytest.mark.parametrize("path", ["/health", "/ready", "/version", "/metrics"])
def test_probes_need_no_key(keyed: TestClient, path: str):
    assert keyed.get(path).status_code == 200


def test_no_key_configured_means_open(client: TestClient):
    assert client.post("/api/v1/predict", json=BODY).status_code == 200
