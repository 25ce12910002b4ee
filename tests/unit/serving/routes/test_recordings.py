import json

import numpy as np
from fastapi.testclient import TestClient

from cardiospike.data import simulate_recording

from ..conftest import MakeApp, assert_error

DEMO = "/api/v1/demo"
PARSE = "/api/v1/recordings/parse"


# --- demo ----------------------------------------------------------------------------------------------------------


def test_demo_is_the_seeded_simulation_and_says_it_is_synthetic(client: TestClient):
    body = client.get(DEMO, params={"seed": 7, "n_beats": 500}).json()
    rec = simulate_recording(500, seed=7)
    assert body["synthetic"] is True
    assert body["study"] == "demo-7"
    assert body["sequence"] == rec.rr.tolist()
    assert body["times"] == rec.time.tolist()
    assert client.get(DEMO, params={"seed": 7, "n_beats": 500}).json() == body  # seeded: the same every time


def test_demo_has_episodes_and_errors_to_show(client: TestClient):
    body = client.get(DEMO).json()  # the page's default: seed 0, 1,200 beats
    rec = simulate_recording(1200, seed=0)
    assert len(body["sequence"]) == 1200
    assert rec.labels is not None
    assert rec.labels.sum() > 0
    assert any(rr < 300 or rr > 2000 for rr in body["sequence"])


def test_demo_scores_through_predict(client: TestClient):
    demo = client.get(DEMO, params={"seed": 3}).json()
    scored = client.post("/api/v1/predict", json={k: demo[k] for k in ("study", "sequence", "times")})
    assert scored.status_code == 200, scored.text
    assert scored.json()["summary"]["n_beats"] == 1200


def test_demo_bad_query(client: TestClient, small_client: TestClient):
    assert_error(client.get(DEMO, params={"seed": -1}), 422, ["query", "seed"])
    assert_error(client.get(DEMO, params={"n_beats": "many"}), 422, ["query", "n_beats"])
    assert_error(small_client.get(DEMO, params={"n_beats": 51}), 422, ["query", "n_beats"], "too_many_beats")


# --- parse ---------------------------------------------------------------------------------------------------------


def _upload(client: TestClient, name: str, content: str | bytes):
    return client.post(PARSE, files={"file": (name, content, "application/octet-stream")})


def test_parse_competition_csv_of_several_recordings(client: TestClient):
    text = "id,time,x\n1,0,800\n1,800,810\n1,1610,790\n2,0,600\n2,600,640\n"
    body = _upload(client, "multi.csv", text).json()
    assert body["source"] == "multi.csv"
    assert [r["id"] for r in body["recordings"]] == ["1", "2"]
    assert body["recordings"][0] == {
        "id": "1",
        "rr": [800.0, 810.0, 790.0],
        "time": [0.0, 800.0, 1610.0],
        "labels": None,
    }
    assert (body["format"], body["unit"], body["warnings"]) == ("csv", "ms", [])


def test_parse_text_and_json(client: TestClient):
    text = _upload(client, "kubios.txt", "# exported\n812\n790\n\n805\n").json()
    # Named after the file, as the command line names it.
    assert text["recordings"] == [
        {"id": "kubios", "rr": [812.0, 790.0, 805.0], "time": [0.0, 790.0, 1595.0], "labels": None}
    ]
    payload = json.dumps([{"id": "a", "rr": [800, 700]}, {"id": "b", "rr": [900]}])
    assert [r["id"] for r in _upload(client, "two.json", payload).json()["recordings"]] == ["a", "b"]


def test_parse_times_default_like_the_readers(client: TestClient):
    rr = simulate_recording(50, seed=1).rr
    body = _upload(client, "rr.txt", "\n".join(map(str, rr))).json()
    np.testing.assert_allclose(body["recordings"][0]["time"], np.cumsum(rr) - rr[0])


def test_bad_file_is_a_422_naming_file_line_and_field(client: TestClient):
    body = assert_error(_upload(client, "bad.csv", "id,time,x\n1,0,800\n1,800,abc\n"), 422, ["body", "file"])
    assert "bad.csv, line 3, field 'x'" in body["detail"]
    assert_error(_upload(client, "empty.txt", ""), 422, ["body", "file"], "recording_format")
    assert_error(_upload(client, "latin1.txt", "800\n\xe9\n".encode("latin-1")), 422, ["body", "file"])


def test_parse_limits(small_client: TestClient):
    many = "\n".join(["800"] * 51)
    assert_error(_upload(small_client, "long.txt", many), 422, ["body", "file", "recordings", 0], "too_many_beats")
    assert_error(_upload(small_client, "big.txt", "800\n" * 2000), 413)


def test_parse_without_file(client: TestClient):
    assert_error(client.post(PARSE), 422, ["body", "file"])


def test_recording_routes_need_the_key_where_one_is_set(make_app: MakeApp):
    with TestClient(make_app(api_key="secret")) as keyed:
        assert_error(keyed.get(DEMO), 401)
        assert_error(_upload(keyed, "rr.txt", "800\n"), 401)
        assert keyed.get(DEMO, headers={"X-API-Key": "secret"}).status_code == 200
        ok = keyed.post(PARSE, files={"file": ("rr.txt", "800\n")}, headers={"X-API-Key": "secret"})
        assert ok.status_code == 200
