import hashlib
import json

from fastapi.testclient import TestClient

from cardiospike.data import csv_text, recordings_to_frame, simulate_recording
from tests.reports import chart_data

from ..conftest import MakeApp, assert_error

URL = "/api/v1/report"


def _three() -> bytes:
    recordings = [simulate_recording(n, seed=s, id=f"patient-{s}") for n, s in ((700, 11), (500, 12), (300, 13))]
    return csv_text(recordings_to_frame(recordings).drop(columns="y")).encode()


def _post(client: TestClient, name: str, content: bytes, **form: str):
    return client.post(URL, data=form, files={"file": (name, content, "text/csv")})


def test_report_of_an_uploaded_file(client: TestClient):
    content = _three()
    response = _post(client, "three.csv", content)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == 'attachment; filename="three-report.html"'
    html = response.text
    assert len(chart_data(html)) == 3
    assert hashlib.sha256(content).hexdigest() in html
    assert ">three.csv<" in html
    assert client.get("/version").json()["model_version"] in html


def test_report_of_one_recording_of_a_file(client: TestClient):
    response = _post(client, "three.csv", _three(), recording="patient-12")
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="patient-12-report.html"'
    (chart,) = chart_data(response.text)
    assert chart["n_beats"] == 500
    assert "Recording</span> patient-12<" in response.text


def test_report_of_a_recording_sent_as_json(client: TestClient):
    rec = simulate_recording(400, seed=5, id="</script>")
    content = json.dumps({"id": rec.id, "rr": rec.rr.tolist(), "time": rec.time.tolist()}).encode()
    response = _post(client, "shown.json", content, recording=rec.id)
    assert response.status_code == 200, response.text
    assert response.text.count("</script>") == 3  # the id is escaped, in the page and in the chart data
    assert response.headers["content-disposition"] == 'attachment; filename="script-report.html"'


def test_report_of_a_recording_whose_id_is_longer_than_a_study_id(client: TestClient):
    # The readers take ids of any length (a column's value): the web page asks for its report by that id.
    long_id = "p" * 300
    rec = simulate_recording(200, seed=3, id=long_id)
    content = json.dumps({"id": rec.id, "rr": rec.rr.tolist()}).encode()
    response = _post(client, "long.json", content, recording=long_id)
    assert response.status_code == 200, response.text
    assert len(chart_data(response.text)) == 1
    assert response.headers["content-disposition"] == f'attachment; filename="{"p" * 80}-report.html"'


def test_report_refuses_what_predict_refuses(client: TestClient, small_client: TestClient):
    assert_error(
        _post(client, "three.csv", _three(), recording="nobody"), 422, ["body", "recording"], "recording_not_found"
    )
    assert_error(_post(client, "bad.csv", b"id,time,x\na,0,abc\n"), 422, ["body", "file"], "recording_format")
    assert_error(client.post(URL, data={"x": "1"}), 422, ["body", "file"])
    assert_error(_post(small_client, "long.txt", b"800\n" * 51), 422, type="too_many_beats")
    assert_error(_post(small_client, "big.txt", b"800\n" * 2000), 413)
    assert_error(_post(client, "a.txt", b"800\n", recording=""), 422, ["body", "recording"], "string_too_short")
    too_early = client.post(URL, params={"recording": "a"}, files={"file": ("a.txt", b"800\n")})
    assert_error(too_early, 422, ["query", "recording"], "moved_to_body")


def test_report_needs_the_key_where_one_is_set(make_app: MakeApp):
    with TestClient(make_app(api_key="secret")) as keyed:
        assert_error(_post(keyed, "r.txt", b"800\n810\n"), 401)
        response = keyed.post(URL, files={"file": ("r.txt", b"800\n810\n")}, headers={"X-API-Key": "secret"})
        assert response.status_code == 200, response.text


def test_report_is_in_the_schema(client: TestClient):
    operation = client.get("/openapi.json").json()["paths"][URL]["post"]
    assert "text/html" in operation["responses"]["200"]["content"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"]
    assert body["properties"]["recording"]["type"] == "string"
    assert body["properties"]["recording"]["minLength"] == 1
    assert "maxLength" not in body["properties"]["recording"]  # any id the readers read: the body limit bounds it
    assert "parameters" not in operation  # nothing in the query string, which access logs write
