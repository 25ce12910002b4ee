"""The commands' input options (--format, --unit, --rr-column, --time-column), what predict writes and prints."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import recordings_to_frame, simulate_recordings, write_csv_atomic
from tests.unit.data.fit_files import fit_file

runner = CliRunner()
RR = [812, 790, 805, 1210, 640, 800, 795]


def _npy(values: list[int]) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array(values, dtype=np.float64))
    return buf.getvalue()


#: One small file per format, as its tool writes it, each holding the beats RR.
FILES: dict[str, tuple[str, bytes]] = {
    "csv": ("competition.csv", ("id,time,x\n" + "".join(f"a,{i * 800},{v}\n" for i, v in enumerate(RR))).encode()),
    "text": (
        "kubios.txt",
        ("Kubios\n Time (s)  RR (s)\n" + "".join(f"{i * 0.8:.1f} {v / 1000}\n" for i, v in enumerate(RR))).encode(),
    ),
    "hrm": ("polar.hrm", ("[Params]\r\nInterval=238\r\n[HRData]\r\n" + "".join(f"{v}\r\n" for v in RR)).encode()),
    "json": ("app.json", json.dumps({"rr_intervals": [str(v) for v in RR]}).encode()),
    "ndjson": ("beats.ndjson", "".join(json.dumps({"rr": v}) + "\n" for v in RR).encode()),
    "npy": ("rr.npy", _npy(RR)),
    "fit": ("watch.fit", fit_file([RR[:5], RR[5:]])),
    "utf16": ("excel.txt", ("rr\r\n" + "".join(f"{v}\r\n" for v in RR)).encode("utf-16")),
}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_predict_writes_one_row_per_input_beat_for_every_format(kind: str, tmp_path: Path, tiny_model_dir: Path):
    if kind == "fit":
        pytest.importorskip("fitdecode", reason="the 'fit' extra (fitdecode) is not installed")
    name, content = FILES[kind]
    src, out = tmp_path / name, tmp_path / "scored.csv"
    src.write_bytes(content)
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert scored["x"].tolist() == RR
    assert len(scored) == len(RR)


def test_predict_says_when_it_reads_seconds_and_unit_option_decides(tmp_path: Path, tiny_model_dir: Path):
    src, out = tmp_path / "garmin.csv", tmp_path / "scored.csv"
    src.write_text("timestamp,rr\n" + "".join(f"{1000 + i * 0.8:.1f},{v / 1000}\n" for i, v in enumerate(RR)))
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "RR read in seconds: their median, 0.8, is below 10" in result.output
    assert pd.read_csv(out)["x"].tolist() == RR
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir), "--unit", "ms"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())  # unwrapped
    assert "more than half the beats of recording 'garmin' are measurement errors" in output
    assert "is seconds as milliseconds: --unit s reads them as seconds" in output
    assert output.count("more than half the beats") == 1


def test_rr_and_time_columns_by_option_and_extra_columns_carried(tmp_path: Path, tiny_model_dir: Path):
    src, out = tmp_path / "export.csv", tmp_path / "scored.csv"
    src.write_text("beat;stamp;note;x\n" + "".join(f"{v};{i * 800};n{i};{i}\n" for i, v in enumerate(RR)))
    args = ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir), "--rr-column", "beat"]
    result = runner.invoke(app, [*args, "--time-column", "stamp"])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert scored.columns.tolist() == ["id", "time", "x", "y", "anomaly_proba", "error", "note", "input_x"]
    assert scored["x"].tolist() == RR
    assert scored["time"].tolist() == [i * 800 for i in range(len(RR))]
    assert scored["note"].tolist() == [f"n{i}" for i in range(len(RR))]


def test_a_refused_file_names_the_format_and_the_option(tmp_path: Path, tiny_model_dir: Path):
    src = tmp_path / "odd.csv"
    src.write_text("beat,stamp\n800,0\n")
    result = runner.invoke(app, ["predict", str(src), "-o", str(tmp_path / "o.csv"), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "read as csv, from the extension .csv" in result.output
    assert "--rr-column NAME" in result.output


@pytest.mark.parametrize("option", [["--format", "xml"], ["--unit", "us"]])
def test_unknown_format_or_unit_is_a_usage_error(option: list[str], tmp_path: Path):
    result = runner.invoke(app, ["predict", str(tmp_path / "a.csv"), "-o", str(tmp_path / "o.csv"), *option])
    assert result.exit_code == 2
    assert "expected one of" in result.output


def test_predict_prints_a_table_per_recording(tmp_path: Path, tiny_model_dir: Path, recordings):
    src = tmp_path / "few.csv"
    write_csv_atomic(recordings_to_frame(recordings[:3]), src)
    result = runner.invoke(app, ["predict", str(src), "-o", str(tmp_path / "o.csv"), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    for header in ("beats", "episodes", "anomalous", "errors"):
        assert header in result.output
    for rec in recordings[:3]:
        assert rec.id in result.output


def test_predict_prints_one_line_of_totals_beyond_twenty_recordings(tmp_path: Path, tiny_model_dir: Path):
    many = simulate_recordings(25, n_beats=40, seed=3)
    src = tmp_path / "many.csv"
    write_csv_atomic(recordings_to_frame(many), src)
    result = runner.invoke(app, ["predict", str(src), "-o", str(tmp_path / "o.csv"), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "┃ id" not in result.output
    assert "Scored 25 recording(s), 1000 beats, " in result.output


def test_evaluate_warns_on_the_models_training_data(tmp_path: Path, tiny_model_dir: Path):
    trained_on = tiny_model_dir.parent / "train.csv"
    result = runner.invoke(app, ["evaluate", str(trained_on), "-m", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert "8 of 8 recordings are in the model's training data" in result.stderr
    assert json.loads(result.stdout)["overall"]["n_beats"] > 0
    # The same recordings in another file are found by their content (tests/unit/training/test_fingerprints.py).
    other = tmp_path / "other.csv"
    other.write_bytes(trained_on.read_bytes() + b"\n")
    result = runner.invoke(app, ["evaluate", str(other), "-m", str(tiny_model_dir), "--json"])
    assert "8 of 8 recordings are in the model's training data" in result.stderr


@pytest.mark.parametrize("n_beats", ["0", "-5"])
def test_demo_refuses_no_beats_clearly(n_beats: str):
    result = runner.invoke(app, ["demo", "--n-beats", n_beats])
    assert result.exit_code == 2
    assert "--n-beats" in result.output
    assert "Traceback" not in result.output


def test_brackets_in_headers_and_ids_are_printed_as_they_are(tmp_path: Path, tiny_model_dir: Path):
    src, out = tmp_path / "odd.csv", tmp_path / "o.csv"
    src.write_text("RR-interval [/ms]\n800\n")  # "[/ms]" would close a console markup tag
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "'RR-interval [/ms]'" in result.output
    src.write_text("id,RR-interval [ms]\n[/b] [red],800\n[/b] [red],810\n")
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "[/b] [red]" in result.output


def test_id_column_by_option_and_a_warning_where_ids_would_be_merged(tmp_path: Path, tiny_model_dir: Path):
    src, out = tmp_path / "clinic.csv", tmp_path / "scored.csv"
    src.write_text("pid,rr\n" + "".join(f"{p},{v}\n" for p in "AB" for v in RR))
    base = ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)]
    merged = runner.invoke(app, base)
    assert merged.exit_code == 0, merged.output
    output = " ".join(merged.output.split())
    assert "Warning: " in output
    assert "'pid' looks like recording ids" in output
    assert "--id-column pid reads one recording per value" in output
    assert pd.read_csv(out)["id"].unique().tolist() == ["clinic"]
    split = runner.invoke(app, [*base, "--id-column", "pid"])
    assert split.exit_code == 0, split.output
    assert "Warning" not in split.output
    assert pd.read_csv(out)["id"].unique().tolist() == ["A", "B"]
    missing = runner.invoke(app, [*base, "--id-column", "who"])
    assert missing.exit_code == 2
    assert "no column 'who' (--id-column who)" in " ".join(missing.output.split())
