import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cardiospike.cli import app as cli
from cardiospike.data import recordings_to_frame, simulate_recording, write_csv_atomic
from cardiospike.detector import load_detector
from cardiospike.recording import Recording
from cardiospike.summary import episodes_of, hrv_summary

from ..conftest import assert_error

URL = "/api/v1/predict"
BATCH = "/api/v1/predict/batch"


def test_predict_matches_the_detector(client: TestClient, tiny_model_dir: Path):
    rec = simulate_recording(600, seed=3)
    rr = rec.rr.copy()
    rr[[10, 11, 300]] = [250.0, 2600.0, 3000.0]  # measurement errors
    response = client.post(URL, json={"study": "p1", "sequence": rr.tolist()})
    assert response.status_code == 200, response.text
    body = response.json()
    scored = load_detector(tiny_model_dir).score(Recording.from_rr(rr, id="p1"))
    assert body["study"] == "p1"
    assert body["model_version"] == load_detector(tiny_model_dir).model_version
    assert body["anomaly_thresh"] == pytest.approx(scored.threshold)
    np.testing.assert_allclose(body["anomaly_proba"], scored.proba, atol=1e-6)
    assert body["is_anomaly"] == scored.is_anomaly.astype(int).tolist()
    assert body["errors"] == scored.error.astype(int).tolist()
    assert all(body["errors"][i] for i in (10, 11, 300))
    assert body["episodes"] == [e.to_dict() for e in episodes_of(scored)]
    summary = body["summary"]
    assert summary["n_beats"] == 600
    assert summary["n_valid"] == 600 - int(scored.error.sum())
    assert summary["n_episodes"] == len(body["episodes"])
    assert summary["anomaly_share"] == pytest.approx(scored.is_anomaly.mean(), abs=1e-6)
    hrv = hrv_summary(scored).to_dict()
    assert {k: summary[k] for k in hrv} == hrv


def test_times_are_used_for_episode_times(client: TestClient):
    rr = [800.0] * 5
    times = [1000.0, 1800.0, 2600.0, 5000.0, 5800.0]
    body = client.post(URL, json={"study": "t", "sequence": rr, "times": times}).json()
    starts = {e["start"]: e["start_ms"] for e in body["episodes"]}
    assert all(ms == times[i] for i, ms in starts.items())


def test_one_beat_has_undefined_variability(client: TestClient):
    summary = client.post(URL, json={"study": "one", "sequence": [800]}).json()["summary"]
    assert (summary["n_beats"], summary["mean_rr"], summary["mean_hr"]) == (1, 800.0, 75.0)
    assert summary["sdnn"] is summary["rmssd"] is summary["pnn50"] is None


def _post_raw(client: TestClient, body: str, content_type: str = "application/json") -> Any:
    return client.post(URL, content=body.encode(), headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("body", "loc", "type"),
    [
        ({"study": "a", "sequence": []}, ["body", "sequence"], "too_short"),
        ({"study": "a", "sequence": [800, -5]}, ["body", "sequence", 1], "greater_than_equal"),
        ({"study": "a", "sequence": [800, 1e9]}, ["body", "sequence", 1], "less_than_equal"),
        ({"study": "a", "sequence": ["800"]}, ["body", "sequence", 0], "float_type"),
        ({"study": "a", "sequence": [True]}, ["body", "sequence", 0], "float_type"),
        ({"study": "a", "sequence": [None]}, ["body", "sequence", 0], "float_type"),
        ({"study": "a", "sequence": 800}, ["body", "sequence"], "list_type"),
        ({"study": 12, "sequence": [800]}, ["body", "study"], "string_type"),
        ({"study": "", "sequence": [800]}, ["body", "study"], "string_too_short"),
        ({"sequence": [800]}, ["body", "study"], "missing"),
        ({"study": "a"}, ["body", "sequence"], "missing"),
        ({"study": "a", "sequence": [800], "tims": [0]}, ["body", "tims"], "extra_forbidden"),
        ({"study": "a", "sequence": [800, 810], "times": [0]}, ["body", "times"], "times_length"),
        ({"study": "a", "sequence": [800, 810, 820], "times": [0, 5, 5]}, ["body", "times"], "times_not_increasing"),
        ({"study": "a", "sequence": [800, 0, 820], "times": [0, 5, 4]}, ["body", "times"], "times_not_increasing"),
        ({"study": "a", "sequence": [800, 810], "times": [10, 0]}, ["body", "times"], "times_not_increasing"),
        ({"study": "a", "sequence": [800], "times": ["0"]}, ["body", "times", 0], "float_type"),
        ([800, 810], ["body"], "model_type"),
    ],
)
def test_invalid_json_input_is_422_with_where(client: TestClient, body: Any, loc: list, type: str):
    assert_error(client.post(URL, json=body), 422, loc, type)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_rr_and_times(client: TestClient, value: str):
    # Python's JSON parser accepts these non-standard tokens, so they reach validation and must stop there.
    assert_error(_post_raw(client, f'{{"study": "a", "sequence": [800, {value}]}}'), 422, ["body", "sequence", 1])
    body = f'{{"study": "a", "sequence": [800, 800], "times": [0, {value}]}}'
    assert_error(_post_raw(client, body), 422, ["body", "times", 1], "finite_number")


def test_more_beats_than_the_limit(small_client: TestClient):
    body = assert_error(small_client.post(URL, json={"study": "a", "sequence": [800] * 51}), 422, ["body", "sequence"])
    assert "51 beats, more than the limit of 50" in body["detail"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), ('{"study": "a", "sequence": [800]}', "text/plain"), ("", "application/json")],
)
def test_unreadable_bodies_are_4xx(client: TestClient, body: str, content_type: str):
    assert_error(_post_raw(client, body, content_type), 422)


def test_deeply_nested_json_is_400_not_500(client: TestClient):
    response = _post_raw(client, "[" * 100_000 + "]" * 100_000)
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)


def test_validation_stops_at_the_first_bad_value(client: TestClient):
    body = assert_error(client.post(URL, json={"study": "a", "sequence": [-1.0] * 5000}), 422)
    assert [(e["loc"], e["type"]) for e in body["errors"]] == [(["body", "sequence", 0], "greater_than_equal")]


def test_zero_rr_is_scored_and_flagged_as_a_measurement_error(client: TestClient):
    body = client.post(URL, json={"study": "a", "sequence": [800, 0, 65535, 810]}).json()
    assert body["errors"] == [0, 1, 1, 0]


def test_rr_values_never_logged_nor_echoed(client: TestClient, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    ok = client.post(URL, json={"study": "a", "sequence": [812.25, 790.5]})
    bad = client.post(URL, json={"study": "a", "sequence": [812.25, -4242.5]})
    assert ok.status_code == 200
    assert bad.status_code == 422
    assert "-4242.5" not in bad.text
    assert "812.25" not in bad.text
    assert "4242.5" not in caplog.text
    assert "812.25" not in caplog.text


# --- batch ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def competition_csv(tmp_path_factory: pytest.TempPathFactory, recordings: list[Recording]) -> Path:
    path = tmp_path_factory.mktemp("batch") / "recordings.csv"
    write_csv_atomic(recordings_to_frame(recordings[:3]), path)
    return path


def test_batch_scores_like_the_cli(client: TestClient, competition_csv: Path, tiny_model_dir: Path, tmp_path: Path):
    response = client.post(BATCH, files={"file": ("recordings.csv", competition_csv.read_bytes(), "text/csv")})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    served = pd.read_csv(io.StringIO(response.text))
    out = tmp_path / "scored.csv"
    result = CliRunner().invoke(cli, ["predict", str(competition_csv), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(served, pd.read_csv(out), check_dtype=False)
    assert response.content == out.read_bytes()  # byte for byte
    assert served.columns.tolist() == ["id", "time", "x", "y", "label", "anomaly_proba", "error"]
    assert served["label"].tolist() == pd.read_csv(competition_csv)["y"].tolist()


def test_batch_counts_beats_in_metrics(make_app: Any, competition_csv: Path):
    with TestClient(make_app()) as client:
        client.post(BATCH, files={"file": ("r.csv", competition_csv.read_bytes())})
        n_beats = len(pd.read_csv(competition_csv))
        assert f"cardiospike_beats_scored_total {float(n_beats)}" in client.get("/metrics").text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,time,x\n1,0,800\n1,800,abc\n", "upload.csv, line 3, field 'x': not a number"),
        (b"id,time,x\n1,0,800\n1,800,-5\n", "upload.csv, line 3, field 'x': RR must not be negative"),
        (b"id,time,x\n1,0,800\n1,0,810\n", "upload.csv, line 3, field 'time': duplicated (id, time)"),
        (b"id,time\n1,0\n", "upload.csv, line 1: missing RR column"),
        (b"id,time,x\n1,0,800,9\n", "upload.csv: malformed CSV"),
        (b"", "upload.csv: file is empty"),
        (b"x\n\x80\x81\n", "upload.csv: not UTF-8 text"),
    ],
)
def test_malformed_csv_is_422_with_file_line_field(client: TestClient, content: bytes, message: str):
    body = assert_error(client.post(BATCH, files={"file": ("upload.csv", content)}), 422, ["body", "file"])
    assert message in body["detail"]


def test_batch_without_file(client: TestClient):
    assert_error(client.post(BATCH, data={"other": "x"}), 422, ["body", "file"], "missing")
    assert_error(client.post(BATCH, json={"file": "x"}), 422)


def test_batch_recording_over_the_beat_limit(small_client: TestClient):
    csv = "id,x\n" + "a,800\n" * 5 + "b,800\n" * 51
    body = assert_error(small_client.post(BATCH, files={"file": ("r.csv", csv.encode())}), 422)
    assert body["errors"][0]["loc"] == ["body", "file", "recordings", 1]
    assert json.dumps(body).count("51 beats") == 2  # in the detail and in the item


def test_rr_in_seconds_are_read_as_such_and_the_answer_says_so(client: TestClient):
    rec = simulate_recording(300, seed=8)
    in_ms = client.post(URL, json={"study": "a", "sequence": rec.rr.tolist()}).json()
    in_s = client.post(URL, json={"study": "a", "sequence": (rec.rr / 1000).tolist()}).json()
    assert (in_ms["unit"], in_ms["unit_note"]) == ("ms", None)
    assert in_s["unit"] == "s"
    assert "below 10" in in_s["unit_note"]
    np.testing.assert_allclose(in_s["anomaly_proba"], in_ms["anomaly_proba"], atol=1e-6)
    assert in_s["errors"] == in_ms["errors"]
    forced = client.post(URL, json={"study": "a", "sequence": (rec.rr / 1000).tolist(), "unit": "ms"}).json()
    assert forced["unit"] == "ms"
    assert all(forced["errors"])  # as asked: sub-second values in ms are all measurement errors


def test_rr_in_seconds_above_the_limit_once_in_ms_is_refused_where_it_is(client: TestClient):
    body = assert_error(client.post(URL, json={"study": "a", "sequence": [0.8, 0.8, 500.0], "unit": "s"}), 422)
    assert body["errors"][0]["loc"] == ["body", "sequence", 2]
    assert "100,000 ms" in body["errors"][0]["msg"]


def test_times_computed_from_rr_are_accepted_back_over_a_dropped_beat(client: TestClient):
    """A dropped beat (RR 0) adds no time, so a recording's times stay put over it: the web page sends them back."""
    body = {"study": "a", "sequence": [800.0, 0.0, 810.0, 790.0], "times": [0.0, 0.0, 810.0, 1600.0]}
    answer = client.post("/api/v1/predict", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["errors"] == [0, 1, 0, 0]
