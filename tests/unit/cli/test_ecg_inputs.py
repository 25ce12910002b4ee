"""``cardiospike predict`` on ECG files: one row per detected beat, with its time and its sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data.synthetic import simulate_ecg

pytest.importorskip("sleepecg", reason="the 'ecg' extra (sleepecg) is not installed")
runner = CliRunner()
FS = 250.0


def _files(folder: Path, x: np.ndarray) -> dict[str, tuple[Path, list[str]]]:
    edfio = pytest.importorskip("edfio", reason="the 'ecg' extra (edfio) is not installed")
    pytest.importorskip("wfdb", reason="the 'ecg' extra (wfdb) is not installed")
    (folder / "rec.dat").write_bytes(np.round(x * 200).astype("<i2").tobytes())
    (folder / "rec.hea").write_text(f"rec 1 {FS:g} {x.size}\nrec.dat 16 200/mV 16 0 0 0 0 MLII\n")
    edfio.Edf([edfio.EdfSignal(x, FS, label="ECG")]).write(folder / "rec.edf")
    (folder / "rec.csv").write_text("\n".join(f"{v:.4f}" for v in x) + "\n")
    return {
        "wfdb": (folder / "rec.hea", []),
        "edf": (folder / "rec.edf", []),
        "csv": (folder / "rec.csv", ["--sampling-rate", f"{FS:g}"]),
    }


@pytest.mark.parametrize("kind", ["wfdb", "edf", "csv"])
def test_predict_writes_one_row_per_detected_beat(kind: str, tmp_path: Path, tiny_model_dir: Path):
    x, peaks = simulate_ecg(120, fs=FS, heart_rate=75, seed=9)
    path, options = _files(tmp_path, x)[kind]
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["predict", str(path), "-o", str(out), "-m", str(tiny_model_dir), *options])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert len(scored) == peaks.size
    assert np.abs(scored["sample"].to_numpy() - peaks).max() <= round(0.075 * FS)
    np.testing.assert_allclose(scored["time"], scored["sample"] * 1000 / FS)
    assert scored["error"].iloc[0] == 1  # the first beat has no interval before it


def test_report_reads_ecg_samples_at_a_sampling_rate(tmp_path: Path, tiny_model_dir: Path):
    x, _ = simulate_ecg(60, fs=FS, seed=2)
    path, options = _files(tmp_path, x)["csv"]
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(path), "-o", str(out), "-m", str(tiny_model_dir), *options])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_a_bad_ecg_file_is_one_line_naming_the_file(tmp_path: Path, tiny_model_dir: Path):
    x, _ = simulate_ecg(60, fs=FS, seed=2)
    path, _ = _files(tmp_path, x)["wfdb"]
    path.with_suffix(".dat").write_bytes(b"\0" * 100)
    result = runner.invoke(app, ["predict", str(path), "-o", str(tmp_path / "s.csv"), "-m", str(tiny_model_dir)])
    assert result.exit_code != 0
    assert "rec.hea" in result.output
    assert "number of samples" in result.output
    assert "Traceback" not in result.output
