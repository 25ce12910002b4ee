"""The same beats give the same answer on every surface: the command line, Python, the REST API and the live stream
(the web page, which uses the REST API, is checked in tests/e2e). In milliseconds or seconds, with or without ids."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from cardiospike.cli import app as cli
from cardiospike.data import as_recording, read_recordings, simulate_recording
from cardiospike.detector import Detector, load_detector
from cardiospike.serving.app import create_app
from cardiospike.serving.settings import Settings

PATIENTS = ("p-1", "p-2", "p-3")


@pytest.fixture(scope="module")
def detector(tiny_model_dir: Path) -> Detector:
    return load_detector(tiny_model_dir)


@pytest.fixture(scope="module")
def client(tiny_model_dir: Path) -> Any:
    settings = Settings(_env_file=None, model=tiny_model_dir)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        yield client


def _table(unit: str, ids: bool) -> pd.DataFrame:
    """Three patients' beats (or one recording's, without ids), RR and times in ``unit``."""
    recordings = [simulate_recording(700, seed=s, id=p) for s, p in enumerate(PATIENTS)]
    if not ids:
        recordings = recordings[:1]
    scale = 1000.0 if unit == "s" else 1.0
    frame = pd.DataFrame(
        {
            "patient": np.repeat([r.id for r in recordings], [len(r) for r in recordings]),
            "time": np.concatenate([r.time for r in recordings]) / scale,
            "rr": np.concatenate([r.rr for r in recordings]) / scale,
        }
    )
    return frame if ids else frame.drop(columns="patient")


def _stream(client: TestClient, rr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flags and probabilities of a live stream fed ``rr`` as they are (unit auto)."""
    flags: list[int] = []
    proba: list[float] = []
    with client.websocket_connect("/api/v1/stream") as ws:
        ws.receive_json()
        for start in range(0, len(rr), 100):
            ws.send_json({"rr": rr[start : start + 100].tolist()})
        ws.send_json({"end": True})
        while True:
            try:
                message = ws.receive_json()
            except WebSocketDisconnect:
                break
            if message["type"] == "beats":
                flags += message["is_anomaly"]
                proba += message["anomaly_proba"]
    return np.asarray(flags), np.asarray(proba)


@pytest.mark.parametrize("unit", ["ms", "s"])
@pytest.mark.parametrize("ids", [True, False])
def test_every_surface_gives_the_same_flags_and_values(
    tmp_path: Path, detector: Detector, client: TestClient, tiny_model_dir: Path, unit: str, ids: bool
):
    frame = _table(unit, ids)
    path = tmp_path / "beats.csv"
    frame.to_csv(path, index=False)
    expected_ids = list(PATIENTS) if ids else ["beats"]  # without ids, a recording is named after its file

    # Python, from the file: the reference every other surface is compared with.
    recordings = read_recordings(path)
    assert [r.id for r in recordings] == expected_ids
    scored = detector.score_many(recordings)
    flags = np.concatenate([s.is_anomaly for s in scored]).astype(int)
    proba = np.concatenate([s.proba for s in scored])
    rr_ms = np.concatenate([r.rr for r in recordings])
    time_ms = np.concatenate([r.time for r in recordings])
    np.testing.assert_allclose(rr_ms, frame["rr"] * (1000.0 if unit == "s" else 1.0))
    assert flags.sum() > 0  # something to agree on

    # Python, from values at hand (a DataFrame per recording, a list of RR).
    groups = [g for _, g in frame.groupby("patient", sort=False)] if ids else [frame]
    for recording, group, done in zip(recordings, groups, scored, strict=True):
        from_frame = detector.score(as_recording(group))
        np.testing.assert_array_equal(from_frame.is_anomaly, done.is_anomaly)
        from_list = detector.score(group["rr"].tolist())
        np.testing.assert_array_equal(from_list.is_anomaly, done.is_anomaly)
        assert from_frame.recording.id == (recording.id if ids else "recording")

    # The command line.
    out = tmp_path / "scored.csv"
    result = CliRunner().invoke(cli, ["predict", str(path), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    cli_out = pd.read_csv(out, dtype={"id": str})
    assert cli_out["id"].unique().tolist() == expected_ids
    np.testing.assert_array_equal(cli_out["y"], flags)
    np.testing.assert_allclose(cli_out["anomaly_proba"], proba, atol=1e-6)
    np.testing.assert_allclose(cli_out["x"], rr_ms)
    np.testing.assert_allclose(cli_out["time"], time_ms)

    # REST: the batch CSV, and the web page's way (the file read by the server, each recording scored as JSON).
    with path.open("rb") as f:
        batch = client.post("/api/v1/predict/batch", files={"file": ("beats.csv", f)})
    assert batch.status_code == 200, batch.text
    rest_out = pd.read_csv(io.StringIO(batch.text), dtype={"id": str})
    for column in ("id", "time", "x", "y", "anomaly_proba", "error"):
        pd.testing.assert_series_equal(rest_out[column], cli_out[column], check_exact=False, atol=1e-6)
    parsed = client.post("/api/v1/recordings/parse", files={"file": ("beats.csv", path.read_bytes())}).json()
    assert [r["id"] for r in parsed["recordings"]] == expected_ids
    assert parsed["unit"] == unit
    web_flags = []
    for rec in parsed["recordings"]:
        body = {"study": rec["id"], "sequence": rec["rr"], "times": rec["time"], "unit": "ms"}
        web_flags += client.post("/api/v1/predict", json=body).json()["is_anomaly"]
    np.testing.assert_array_equal(web_flags, flags)

    # REST and the live stream, fed the values as they are in the file (in their unit, decided as the readers do).
    for group, done in zip(groups, scored, strict=True):
        body = {"study": "x", "sequence": group["rr"].tolist(), "times": group["time"].tolist()}
        answer = client.post("/api/v1/predict", json=body).json()
        assert answer["unit"] == unit
        np.testing.assert_array_equal(answer["is_anomaly"], done.is_anomaly.astype(int))
        live_flags, live_proba = _stream(client, group["rr"].to_numpy())
        np.testing.assert_array_equal(live_flags, done.is_anomaly.astype(int))
        np.testing.assert_allclose(live_proba, done.proba, atol=1e-6)
