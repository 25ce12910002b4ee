"""Hostile and careless requests: each is answered at once with a 4xx that names the limit, and no answer echoes
the values of the request or corrupts them."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import cardiospike.serving.scoring as scoring
from cardiospike.data.io import MAX_COLUMNS
from cardiospike.serving.bodies import values_limit
from cardiospike.serving.scoring import ClientGoneError, off_loop

from .conftest import MakeApp, assert_error

BATCH, PARSE, PREDICT = "/api/v1/predict/batch", "/api/v1/recordings/parse", "/api/v1/predict"


def _upload(client: TestClient, url: str, content: bytes, name: str = "f.csv") -> Any:
    return client.post(url, files={"file": (name, content)})


@pytest.mark.parametrize("url", [BATCH, PARSE])
def test_a_header_of_thousands_of_columns_is_refused_before_reading(client: TestClient, url: str):
    header = ",".join(f"c{i}" for i in range(40_000)) + "\n"
    body = assert_error(_upload(client, url, (header + "1\n").encode()), 422, ["body", "file"])
    assert f"more than {MAX_COLUMNS} columns" in body["detail"]


def test_millions_of_values_are_refused_before_parsing(client: TestClient):
    content = b'{"study": "a", "sequence": [' + b"0," * 4_000_000 + b"0]}"
    response = client.post(PREDICT, content=content, headers={"Content-Type": "application/json"})
    body = assert_error(response, 422, ["body"], "too_many_values")
    assert f"more than {values_limit(100_000)} values" in body["detail"]
    assert "setting max_beats" in body["detail"]


def test_more_recordings_than_the_limit(make_app: MakeApp):
    csv = "id,x\n" + "".join(f"{i},800\n" for i in range(11))
    with TestClient(make_app(max_recordings=10)) as client:
        for url in (BATCH, PARSE):
            body = assert_error(_upload(client, url, csv.encode()), 422, ["body", "file"])
            assert "11 recordings, more than the limit of 10" in body["detail"]
        assert _upload(client, BATCH, csv.replace("10,800\n", "").encode()).status_code == 200


def test_huge_numbers_come_back_as_they_went_in(client: TestClient):
    csv = "id,time,x\na,0,800\na,9223372036854775808,810\na,1e300,790\n"
    response = _upload(client, BATCH, csv.encode())
    assert response.status_code == 200, response.text
    scored = pd.read_csv(io.StringIO(response.text), dtype={"time": float})
    assert scored["time"].tolist() == [0.0, 2.0**63, 1e300]
    assert scored["x"].tolist() == [800, 810, 790]


@pytest.mark.parametrize("rr", ["9223372036854775808", "1e300", "100001"])
def test_rr_beyond_the_common_bound_is_refused_in_uploads_as_in_json(client: TestClient, rr: str):
    body = assert_error(_upload(client, BATCH, f"x\n800\n{rr}\n".encode()), 422, ["body", "file"])
    assert "RR above 100,000 ms" in body["detail"]
    assert rr not in body["detail"]
    assert_error(client.post(PREDICT, json={"study": "a", "sequence": [800, float(rr)]}), 422, ["body", "sequence", 1])


def test_times_read_in_seconds_beyond_any_float_in_ms_are_refused(client: TestClient):
    body = {"study": "a", "sequence": [0.8, 0.9], "times": [1.0, 1e306], "unit": "s"}
    error = assert_error(client.post(PREDICT, json=body), 422, ["body", "times", 1], "time_too_large_in_seconds")
    assert "1e+306" not in error["detail"]
    assert client.post(PREDICT, json={**body, "unit": "ms", "sequence": [800, 900]}).status_code == 200


def test_deeply_nested_json_upload_is_422(client: TestClient):
    body = assert_error(_upload(client, PARSE, b"[" * 100_000 + b"]" * 100_000, "f.json"), 422, ["body", "file"])
    assert "nested too deeply" in body["detail"]


@pytest.mark.parametrize(
    ("study", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd", "'+1+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-x", "'-x"),
        ("-1", "-1"),  # a number stays a number
        ("p1", "p1"),
    ],
)
def test_formula_like_ids_are_neutralised_in_the_scored_csv(client: TestClient, study: str, written: str):
    frame = pd.DataFrame({"id": [study] * 3, "x": [800, 810, 790]})
    response = _upload(client, BATCH, frame.to_csv(index=False).encode())
    assert response.status_code == 200, response.text
    scored = pd.read_csv(io.StringIO(response.text), dtype={"id": str}, keep_default_na=False)
    assert scored["id"].tolist() == [written] * 3


@pytest.mark.parametrize(
    ("url", "content"),
    [
        (BATCH, b"id,x\nsecret-id,800\nsecret-id,-777.777\n"),
        (BATCH, b"id,x\nsecret-id,800\nsecret-id,abc-777\n"),
        (BATCH, b"id,x\nsecret-id,800\nother,800\nsecret-id,810\n"),
        (PARSE, b'[{"id": "secret-id", "rr": [800]}, {"id": "secret-id", "rr": [800]}]'),
        (PARSE, b'{"rr": [800, "abc-777"]}'),
    ],
)
def test_upload_errors_never_echo_values(client: TestClient, url: str, content: bytes):
    response = _upload(client, url, content, "f.json" if content.startswith((b"[", b"{")) else "f.csv")
    assert response.status_code == 422
    assert "777" not in response.text
    assert "secret-id" not in response.text


def test_work_is_dropped_when_the_client_has_left():
    class Gone:
        class app:  # noqa: N801 (stands in for the FastAPI app's state)
            class state:  # noqa: N801
                cpu_limiter = asyncio.Semaphore(1)

        async def is_disconnected(self) -> bool:
            return True

    calls: list[int] = []
    # A thread of its own: the browser tests may leave an event loop running in this one.
    with ThreadPoolExecutor(1) as pool, pytest.raises(ClientGoneError):
        pool.submit(asyncio.run, off_loop(Gone(), lambda: calls.append(1))).result()  # type: ignore[arg-type]
    assert calls == []


@pytest.mark.parametrize("url", [BATCH, PARSE])
def test_the_schema_says_an_upload_must_not_be_empty(client: TestClient, url: str):
    schema = client.get("/openapi.json").json()["paths"][url]["post"]["requestBody"]
    assert schema["content"]["multipart/form-data"]["schema"]["properties"]["file"]["minLength"] == 1
    assert_error(_upload(client, url, b""), 422, ["body", "file"])


@pytest.mark.parametrize("url", [BATCH, PARSE, "/api/v1/report"])
def test_whatever_a_reader_raises_is_a_422_logged_by_its_kind_only(
    client: TestClient, url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def broken_reader(*args: Any, **kwargs: Any) -> Any:
        raise AttributeError("'NpzFile' object has no attribute 'dtype' at value 812.125")

    monkeypatch.setattr(scoring, "parse_recordings", broken_reader)
    with caplog.at_level("WARNING", logger="cardiospike.serving.scoring"):
        body = assert_error(_upload(client, url, b"800\n810\n", "r.txt"), 422, ["body", "file"], "recording_format")
    assert body["detail"].endswith("r.txt: cannot be read as recordings" if url != BATCH else "as a CSV of recordings")
    assert "unreadable upload: AttributeError" in caplog.text
    assert "812.125" not in caplog.text + str(body)


def test_a_zip_read_as_npy_is_a_422(client: TestClient):
    # An .npz archive (a zip) where a .npy array is asked for: a reader once raised AttributeError on it (a 500).
    buffer = io.BytesIO()
    np.savez(buffer, a=np.arange(3))
    response = client.post(BATCH, data={"format": "npy"}, files={"file": ("a.zip", buffer.getvalue())})
    assert_error(response, 422, ["body", "file"])


def test_the_schema_refuses_empty_times_and_labels_as_the_api_does(client: TestClient):
    schema = client.get("/openapi.json").json()["paths"][PREDICT]["post"]["requestBody"]["content"]
    fields = schema["application/json"]["schema"]["properties"]
    for name in ("times", "labels"):
        listed = next(option for option in fields[name]["anyOf"] if option.get("type") == "array")
        assert listed["minItems"] == 1, name
        response = client.post(PREDICT, json={"study": "a", "sequence": [800.0, 810.0], name: []})
        assert_error(response, 422, ["body", name])
