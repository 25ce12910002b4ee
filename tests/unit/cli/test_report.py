import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import recordings_to_frame, simulate_recording, write_csv_atomic
from cardiospike.detector import load_detector
from tests.reports import chart_data

runner = CliRunner()


@pytest.fixture
def three_csv(tmp_path: Path) -> Path:
    path = tmp_path / "three.csv"
    recordings = [simulate_recording(n, seed=s, id=f"p-{s}") for n, s in ((700, 1), (500, 2), (300, 3))]
    write_csv_atomic(recordings_to_frame(recordings).drop(columns="y"), path)
    return path


def test_report_of_a_file_of_recordings(tmp_path: Path, three_csv: Path, tiny_model_dir: Path):
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()  # an output's folder must exist
    result = runner.invoke(app, ["report", str(three_csv), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "Report of 3 recording(s), 1500 beats" in result.output
    html = out.read_text(encoding="utf-8")
    assert [f'id="recording-{n}"' in html for n in (1, 2, 3)] == [True] * 3
    assert all(f"Recording</span> p-{s}" in html for s in (1, 2, 3))
    assert hashlib.sha256(three_csv.read_bytes()).hexdigest() in html
    assert load_detector(tiny_model_dir).model_version in html
    assert len(chart_data(html)) == 3
    assert not list(out.parent.glob("*.partial-*"))  # written atomically: nothing left beside it


def test_report_threshold_and_format(tmp_path: Path, tiny_model_dir: Path):
    src = tmp_path / "rr.txt"
    src.write_text("\n".join(str(v) for v in simulate_recording(400, seed=4).rr.astype(int)) + "\n")
    out = tmp_path / "r.html"
    args = ["report", str(src), "-o", str(out), "-m", str(tiny_model_dir), "--format", "text", "--threshold", "0.2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "0.200 (set for this report; the model" in html
    assert ">rr.txt<" in html


def test_report_to_standard_output(three_csv: Path, tiny_model_dir: Path):
    result = runner.invoke(app, ["report", str(three_csv), "-o", "-", "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!doctype html>")
    assert result.stdout.rstrip().endswith("</html>")
    assert "Report of 3 recording(s)" in result.stderr


def test_report_refuses_unsafe_targets_and_bad_input(tmp_path: Path, three_csv: Path, tiny_model_dir: Path):
    result = runner.invoke(app, ["report", str(three_csv), "-o", str(three_csv), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "is the input file" in result.stderr
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "real.html")
    result = runner.invoke(app, ["report", str(three_csv), "-o", str(link), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "symbolic link" in result.stderr
    assert (
        runner.invoke(app, ["report", str(three_csv), "-o", str(link), "-m", str(tiny_model_dir), "--force"]).exit_code
        == 0
    )
    assert (tmp_path / "real.html").read_text(encoding="utf-8").startswith("<!doctype html>")

    bad = tmp_path / "bad.csv"
    bad.write_text("id,time,x\na,0,abc\n")
    out = tmp_path / "never.html"
    result = runner.invoke(app, ["report", str(bad), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "not a number" in result.stderr
    assert not out.exists()
    result = runner.invoke(app, ["report", str(bad), "-o", str(out), "--threshold", "2"])
    assert result.exit_code == 2
