"""``cardiospike report`` of an ECG record: an ECG strip for each episode (up to the cap), read from the record, the
report within its size; none for RR."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import recordings_to_frame, simulate_recording, write_csv_atomic
from cardiospike.data.synthetic import render_ecg
from cardiospike.report.content import EPISODE_PAD_MS
from cardiospike.report.strips import MAX_STRIP_BYTES, MAX_STRIPS
from cardiospike.web import plotly_js
from tests.reports import chart_data

pytest.importorskip("sleepecg", reason="the 'ecg' extra (sleepecg) is not installed")
runner = CliRunner()
FS = 250.0
#: The report's own HTML beside Plotly.js and the strips: the header, a section, a chart of 1,500 beats.
PAGE_BYTES = 250_000


def _ecg(folder: Path, kind: str, n_beats: int = 1500) -> Path:
    """An ECG (synthetic, no patient's) whose beats follow a simulated RR recording with anomaly episodes."""
    rec = simulate_recording(n_beats, seed=3)
    beats_s = 0.5 + (np.cumsum(rec.rr) - rec.rr[0]) / 1000.0
    n = int(np.ceil(beats_s[-1] + 1.0) * FS)  # whole seconds: EDF's data records are of one second
    x, _ = render_ecg(beats_s, FS, 0, n, noise=0.02, seed=3)
    if kind == "edf":
        edfio = pytest.importorskip("edfio", reason="the 'ecg' extra (edfio) is not installed")
        edfio.Edf([edfio.EdfSignal(x, FS, label="ECG")]).write(folder / "rec.edf")
        return folder / "rec.edf"
    pytest.importorskip("wfdb", reason="the 'ecg' extra (wfdb) is not installed")
    (folder / "rec.dat").write_bytes(np.round(x * 200).astype("<i2").tobytes())
    (folder / "rec.hea").write_text(f"rec 1 {FS:g} {x.size}\nrec.dat 16 200/mV 16 0 0 0 0 MLII\n")
    return folder / "rec.hea"


def _report(path: Path, model: Path, *options: str) -> str:
    out = path.parent / "report.html"
    result = runner.invoke(app, ["report", str(path), "-o", str(out), "-m", str(model), *options])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize(("kind", "channel"), [("edf", "ECG"), ("wfdb", "MLII")])
def test_report_of_an_ecg_record_has_a_strip_per_episode(kind: str, channel: str, tmp_path: Path, tiny_model_dir: Path):
    # A low threshold: the tiny model flags more episodes than the cap.
    html = _report(_ecg(tmp_path, kind), tiny_model_dir, "--threshold", "0.05")
    (chart,) = chart_data(html)
    n_episodes = len(chart["episodes"])
    assert n_episodes > MAX_STRIPS
    strips = chart["ecg"]["strips"]
    assert len(strips) == MAX_STRIPS
    assert len(re.findall(r'<div class="strip" ', html)) == MAX_STRIPS
    assert chart["ecg"]["channel"] == channel
    assert f"The strips of the first {MAX_STRIPS} of {n_episodes} episodes are shown" in html
    # Each strip shows its episode: shaded from the beat before its first beat, up to its last beat (or the strip's
    # end), its beats marked; the RR chart's episodes are widened by EPISODE_PAD_MS either side.
    for strip, (start, end) in zip(strips, chart["episodes"], strict=False):
        first_beat, last_beat = start + EPISODE_PAD_MS, end - EPISODE_PAD_MS
        lo, hi = (strip["t0"] + i * strip["dt"] for i in strip["span"])
        assert lo < first_beat <= hi <= last_beat + 0.5
        assert strip["t0"] == pytest.approx(lo - 2000, abs=0.5)  # 2 s before
        marked = [strip["t0"] + i * strip["dt"] for i in strip["beats"]["i"]]
        assert any(abs(t - first_beat) < 0.5 for t in marked)
    sizes = [len(json.dumps(s, separators=(",", ":"))) for s in strips]
    assert max(sizes) <= MAX_STRIP_BYTES
    plotly = plotly_js()
    assert plotly is not None
    assert len(html.encode()) <= plotly.stat().st_size + PAGE_BYTES + MAX_STRIPS * MAX_STRIP_BYTES


def test_report_of_an_ecg_with_few_episodes_has_one_strip_each(tmp_path: Path, tiny_model_dir: Path):
    html = _report(_ecg(tmp_path, "edf", n_beats=400), tiny_model_dir)
    (chart,) = chart_data(html)
    assert 0 < len(chart["episodes"]) <= MAX_STRIPS  # few: each gets its strip
    assert len(chart["ecg"]["strips"]) == len(chart["episodes"])
    assert len(re.findall(r'<div class="strip" ', html)) == len(chart["ecg"]["strips"])
    assert "episodes are shown; the other" not in html


def test_report_of_rr_has_no_strip(tmp_path: Path, tiny_model_dir: Path):
    path = tmp_path / "rr.csv"
    write_csv_atomic(recordings_to_frame([simulate_recording(1500, seed=3)]).drop(columns="y"), path)
    html = _report(path, tiny_model_dir, "--threshold", "0.05")
    (chart,) = chart_data(html)
    assert chart["episodes"]
    assert chart["ecg"] is None
    assert 'class="strip' not in html
    assert "ECG of the episodes" not in html
