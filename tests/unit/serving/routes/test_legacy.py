from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from cardiospike.data import simulate_recording
from cardiospike.detector import load_detector
from cardiospike.recording import Recording

from ..conftest import assert_error


def test_original_contract(client: TestClient, tiny_model_dir: Path):
    rr = simulate_recording(300, seed=5).rr
    rr[7] = 2500.0
    response = client.post("/predict", json={"study": "42", "sequence": rr.tolist()})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"study", "anomaly_proba", "anomaly_thresh", "errors"}
    scored = load_detector(tiny_model_dir).score(Recording.from_rr(rr))
    np.testing.assert_allclose(body["anomaly_proba"], scored.proba, atol=1e-6)
    assert body["anomaly_thresh"] == scored.threshold
    assert body["errors"] == scored.error.astype(int).tolist()
    assert body["errors"][7] == 1
    assert body["study"] == "42"


def test_unknown_fields_are_ignored_as_in_the_original(client: TestClient):
    assert client.post("/predict", json={"study": "a", "sequence": [800], "extra": 1}).status_code == 200


def test_bad_input(client: TestClient, small_client: TestClient):
    assert_error(client.post("/predict", json={"study": "a", "sequence": []}), 422, ["body", "sequence"])
    assert_error(client.post("/predict", json={"study": "a", "sequence": [-1]}), 422, ["body", "sequence", 0])
    long = small_client.post("/predict", json={"study": "a", "sequence": [800] * 51})
    body = assert_error(long, 422, type="too_long")
    assert "more than the limit of 50 per recording (setting max_beats)" in body["detail"]
