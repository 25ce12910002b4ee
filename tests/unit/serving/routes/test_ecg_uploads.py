"""ECG uploads, as the web page sends them: an EDF record's bytes as they are, the fields ``sampling_rate`` and
``ecg_channel`` (the page's *Sampling rate (Hz)* and *ECG lead*), and the report of an ECG with its strips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cardiospike.data import simulate_recording
from cardiospike.data.synthetic import render_ecg
from tests.reports import chart_data

from ..conftest import assert_error

pytest.importorskip("sleepecg", reason="the 'ecg' extra (sleepecg) is not installed")
PARSE = "/api/v1/recordings/parse"
REPORT = "/api/v1/report"
FS = 250.0


def _ecg(n_beats: int = 300) -> np.ndarray:
    """A synthetic ECG (no patient's) whose beats follow a simulated RR recording, of whole seconds."""
    rec = simulate_recording(n_beats, seed=21)
    beats_s = 0.5 + (np.cumsum(rec.rr) - rec.rr[0]) / 1000.0
    x, _ = render_ecg(beats_s, FS, 0, int(np.ceil(beats_s[-1] + 1.0) * FS), noise=0.02, seed=21)
    return x


def _edf(tmp_path: Path, x: np.ndarray, labels: tuple[str, str] = ("Resp", "ECG II")) -> bytes:
    """An EDF record of two channels, respiration first (so that the ECG is not the only one, nor the first)."""
    edfio = pytest.importorskip("edfio", reason="the 'ecg' extra (edfio) is not installed")
    path = tmp_path / "night.edf"
    breathing = np.sin(np.arange(x.size) / FS * 2 * np.pi / 4)
    edfio.Edf([edfio.EdfSignal(breathing, FS, label=labels[0]), edfio.EdfSignal(x, FS, label=labels[1])]).write(path)
    return path.read_bytes()


def test_an_edf_upload_is_read_as_the_page_sends_it(client: TestClient, tmp_path: Path):
    content = _edf(tmp_path, _ecg())
    assert b"\0" in content or any(b > 127 for b in content)  # binary: sent as bytes, not text
    fields = {"unit": "auto", "format": "auto", "ignore_time": "false", "hints": "web"}
    response = client.post(PARSE, files={"file": ("night.edf", content)}, data=fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["format"], body["unit"]) == ("edf", "ms")
    (rec,) = body["recordings"]
    assert rec["id"] == "night"
    assert 250 <= len(rec["rr"]) <= 310
    # The lead by number (from 1) or by name, as the page's "ECG lead" sends it; the respiration has no such beats.
    by_number = client.post(PARSE, files={"file": ("night.edf", content)}, data={**fields, "ecg_channel": "2"})
    assert by_number.json()["recordings"][0]["rr"] == rec["rr"]
    by_name = client.post(PARSE, files={"file": ("night.edf", content)}, data={**fields, "ecg_channel": "ECG II"})
    assert by_name.json()["recordings"][0]["rr"] == rec["rr"]


def test_the_page_s_fields_are_named_in_messages_as_the_page_names_them(client: TestClient, tmp_path: Path):
    content = _edf(tmp_path, _ecg())
    wrong = client.post(PARSE, files={"file": ("night.edf", content)}, data={"ecg_channel": "V9", "hints": "web"})
    assert_error(wrong, 422, ["body", "file"], "recording_format")
    assert "ECG lead: NAME" in wrong.json()["detail"]
    unnamed = _edf(tmp_path, _ecg(), labels=("Resp", "Chan 2"))
    which = client.post(PARSE, files={"file": ("night.edf", unnamed)}, data={"hints": "web"})
    assert_error(which, 422, ["body", "file"], "recording_format")
    assert "ECG lead: NAME" in which.json()["detail"]
    assert '"ecg_channel": "NAME"' in client.post(PARSE, files={"file": ("night.edf", unnamed)}).json()["detail"]
    other = client.post(PARSE, files={"file": ("night.edf", content)}, data={"sampling_rate": "500", "hints": "web"})
    assert_error(other, 422, ["body", "file"], "recording_format")
    assert "sampling rate" in other.json()["detail"]
    bad = client.post(PARSE, files={"file": ("night.edf", content)}, data={"sampling_rate": "fast"})
    assert_error(bad, 422, ["body", "sampling_rate"], "pattern")


def test_samples_are_ecg_only_with_a_sampling_rate(client: TestClient):
    text = "".join(f"{v:.4f}\n" for v in _ecg(120)).encode()
    ecg = client.post(PARSE, files={"file": ("ecg.txt", text)}, data={"sampling_rate": "250", "hints": "web"})
    assert ecg.status_code == 200, ecg.text
    assert ecg.json()["format"] == "ecg"
    assert 100 <= len(ecg.json()["recordings"][0]["rr"]) <= 125
    # Without one, the same file is RR (and refused as such: RR are never negative), never ECG.
    rr = client.post(PARSE, files={"file": ("ecg.txt", text)}, data={"hints": "web"})
    assert_error(rr, 422, ["body", "file"], "recording_format")
    assert "read as text" in rr.json()["detail"]


def test_the_report_of_an_edf_upload_has_its_strips(client: TestClient, tmp_path: Path):
    content = _edf(tmp_path, _ecg(600))
    response = client.post(REPORT, files={"file": ("night.edf", content)}, data={"ecg_channel": "ECG II"})
    assert response.status_code == 200, response.text
    (chart,) = chart_data(response.text)
    assert chart["ecg"]["channel"] == "ECG II"
    assert len(chart["ecg"]["strips"]) == min(len(chart["episodes"]), 20)
    assert response.text.count('<div class="strip" ') == len(chart["ecg"]["strips"])
