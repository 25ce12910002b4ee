"""Uploads are read with the options of ``cardiospike predict`` (form fields), answers say what may be read wrongly,
reference labels come back with how the flags compare, and messages name options as the client shows them."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from cardiospike.data import simulate_recording

from ..conftest import assert_error

PARSE = "/api/v1/recordings/parse"
PREDICT = "/api/v1/predict"


def _parse(client: TestClient, name: str, content: str, **fields: str):
    return client.post(PARSE, files={"file": (name, content.encode())}, data=fields)


def test_pasted_seconds_come_back_in_milliseconds(client: TestClient):
    body = _parse(client, "pasted.txt", "0.812, 0.790, 0.805, 0.8").json()
    (rec,) = body["recordings"]
    assert (rec["id"], body["unit"]) == ("pasted", "s")
    assert rec["rr"] == [812.0, 790.0, 805.0, 800.0]
    assert rec["time"] == [0.0, 790.0, 1595.0, 2395.0]
    assert "seconds" in body["unit_note"]
    assert '"unit": "ms"' in body["unit_note"]  # the REST field, by default
    web = _parse(client, "pasted.txt", "0.812, 0.790", hints="web").json()
    assert "Unit: ms" in web["unit_note"]
    forced = _parse(client, "pasted.txt", "0.812\n0.790\n", unit="ms", hints="web").json()
    assert forced["recordings"][0]["rr"] == [0.812, 0.79]
    (warning,) = forced["warnings"]
    assert "measurement errors" in warning
    assert "Unit: s" in warning


def test_reading_fields_choose_columns_and_ids(client: TestClient):
    text = "pid,when,beat\n" + "".join(f"{p},{i * 800},{800}\n" for p in "AB" for i in range(3))
    merged = _parse(client, "two.csv", text, rr_column="beat", time_column="when", ignore_time="true")
    assert [r["id"] for r in merged.json()["recordings"]] == ["two"]
    assert "'pid' looks like recording ids" in merged.json()["warnings"][0]
    assert '"id_column": "pid"' in merged.json()["warnings"][0]
    split = _parse(client, "two.csv", text, rr_column="beat", time_column="when", id_column="pid").json()
    assert [r["id"] for r in split["recordings"]] == ["A", "B"]
    assert split["recordings"][1]["time"] == [0.0, 800.0, 1600.0]
    as_text = _parse(client, "rr.csv", "800\n810\n", format="text").json()
    assert (as_text["format"], as_text["taken_as"]) == ("text", "read as text, as asked")


def test_refusals_name_the_option_of_the_client(client: TestClient):
    rest = _parse(client, "a.csv", "id,time,rate\n1,0,800\n").json()
    assert '"rr_column": "NAME"' in rest["detail"]
    web = _parse(client, "a.csv", "id,time,rate\n1,0,800\n", hints="web").json()
    assert "RR column: NAME" in web["detail"]
    for answer in (rest, web):
        assert "--rr-column" not in answer["detail"]
    assert_error(_parse(client, "a.csv", "800\n", unit="minutes"), 422, ["body", "unit"], "enum")
    assert_error(_parse(client, "a.csv", "800\n", ignore_time="yes"), 422, ["body", "ignore_time"], "enum")
    assert_error(_parse(client, "a.csv", "800\n", format="parquet"), 422, ["body", "format"], "enum")


def test_labels_come_back_and_are_compared_with_the_flags(client: TestClient):
    rec = simulate_recording(600, seed=11)
    assert rec.labels is not None
    text = "time,x,y\n" + "".join(f"{t},{x},{y}\n" for t, x, y in zip(rec.time, rec.rr, rec.labels, strict=True))
    (parsed,) = _parse(client, "labelled.csv", text).json()["recordings"]
    assert parsed["labels"] == rec.labels.tolist()
    body = {"study": "s", "sequence": parsed["rr"], "times": parsed["time"], "labels": parsed["labels"]}
    answer = client.post(PREDICT, json=body).json()
    flags, labels = np.asarray(answer["is_anomaly"]), rec.labels
    reference = answer["reference"]
    assert reference["n_labelled"] == labels.sum()
    assert reference["n_missed"] == int((labels & ~flags.astype(bool)).sum())
    assert reference["n_false"] == int((~labels.astype(bool) & flags.astype(bool)).sum())
    assert 0 < reference["f1"] <= 1
    assert client.post(PREDICT, json={"study": "s", "sequence": parsed["rr"]}).json()["reference"] is None
    wrong = client.post(PREDICT, json={**body, "labels": [0, 1]})
    assert_error(wrong, 422, ["body", "labels"], "labels_length")


def test_predict_warns_about_heart_rates_in_the_clients_words(client: TestClient):
    answer = client.post(PREDICT, json={"study": "s", "sequence": [72.0, 75.0, 80.0] * 20}).json()
    (warning,) = answer["warnings"]
    assert "looks like a heart rate" in warning
    assert answer["summary"]["n_valid"] == 0
    web = client.post(PREDICT, json={"study": "s", "sequence": [72.0] * 20, "hints": "web"}).json()
    assert "RR column" in web["warnings"][0]
    assert client.post(PREDICT, json={"study": "s", "sequence": [800.0, 810.0] * 20}).json()["warnings"] == []
