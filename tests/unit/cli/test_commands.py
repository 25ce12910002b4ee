import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import recordings_to_frame, simulate_recording, write_csv_atomic

runner = CliRunner()


@pytest.fixture
def labelled_csv(tmp_path: Path, recordings) -> Path:
    path = tmp_path / "labelled.csv"
    write_csv_atomic(recordings_to_frame(recordings[:4]), path)
    return path


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "predict", "evaluate", "demo"):
        assert command in result.output


def test_help_loads_no_heavy_library_and_python_m_works():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cardiospike.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "heavy = ('pandas', 'sklearn', 'lightgbm', 'torch', 'hydra', 'optuna')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
    for name in ("cardiospike", "cardiospike.cli"):
        module = subprocess.run([sys.executable, "-m", name, "--version"], capture_output=True, text=True)
        assert module.returncode == 0
        assert module.stdout.startswith("cardiospike ")


def test_train_writes_an_artifact_with_the_command_and_config(tmp_path: Path, labelled_csv: Path):
    out, predictions = tmp_path / "model", tmp_path / "outer.npz"
    args = ["train", "--data", str(labelled_csv), "--out", str(out), "--predictions", str(predictions)]
    result = runner.invoke(app, [*args, "debug=default", "model.lgbm.num_leaves=5"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    config = manifest["training"]["config"]
    assert config["cv"] == {"outer": 2, "inner": 2, "seed": 42, "long_beats": 2000}
    assert "--predictions" not in manifest["training"]["command"]  # it changes no model
    with np.load(predictions, allow_pickle=False) as outer:
        assert outer["y"].size == manifest["training"]["data"]["n_beats"]
    assert config["model"]["lgbm"]["num_leaves"] == 5
    assert config["data"]["path"] == str(labelled_csv)
    assert manifest["training"]["command"].startswith("cardiospike train --data")
    assert manifest["training"]["data"]["n_recordings"] == 4
    assert len(manifest["training"]["data"]["sha256"]) == 64
    assert "Nested cross-validation" in result.output


def test_train_prints_the_resolved_config():
    result = runner.invoke(app, ["train", "--cfg", "job", "cv.outer=3", "model.lgbm.learning_rate=0.1"])
    assert result.exit_code == 0, result.output
    assert "outer: 3" in result.output
    assert "learning_rate: 0.1" in result.output


@pytest.mark.parametrize(
    ("override", "message"), [("nope.key=3", "Could not override 'nope.key'"), ("cv.outer=x", "invalid")]
)
def test_train_rejects_bad_overrides(override: str, message: str):
    result = runner.invoke(app, ["train", override])
    assert result.exit_code == 2
    assert message in result.output


def test_predict_one_row_per_beat_in_input_order(tmp_path: Path, labelled_csv: Path, tiny_model_dir: Path):
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["predict", str(labelled_csv), "-o", str(out), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    scored, source = pd.read_csv(out), pd.read_csv(labelled_csv)
    assert scored.columns.tolist() == ["id", "time", "x", "y", "label", "anomaly_proba", "error"]
    assert scored[["id", "time", "x"]].equals(source[["id", "time", "x"]])
    assert scored["anomaly_proba"].between(0, 1).all()


def test_predict_writes_the_same_scores_whatever_the_jobs(
    tmp_path: Path, tiny_stack_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    """Many recordings and a long one (in pieces) on one, two and every thread (``CARDIOSPIKE_JOBS`` or -j)."""
    monkeypatch.setattr("cardiospike.detector.BATCH_BEATS", 1_000)
    recs = [simulate_recording(n, seed=n) for n in (5_000, 300, 40, 1_200)]
    src = tmp_path / "in.csv"
    write_csv_atomic(recordings_to_frame(recs), src)
    outputs = []
    for i, (args, env) in enumerate([(["-j", "1"], {}), (["--jobs", "2"], {}), ([], {"CARDIOSPIKE_JOBS": "3"})]):
        out = tmp_path / f"out{i}.csv"
        result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_stack_dir), *args], env=env)
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert len(pd.read_csv(tmp_path / "out0.csv")) == 6_540


def test_predict_plain_text(tmp_path: Path, tiny_model_dir: Path):
    src = tmp_path / "one.txt"
    src.write_text("800\n810\n790\n")
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["id"].tolist() == ["one"] * 3


def test_evaluate_json(labelled_csv: Path, tiny_model_dir: Path):
    result = runner.invoke(app, ["evaluate", str(labelled_csv), "--model", str(tiny_model_dir), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # standard error says these are training recordings of the model
    assert 0 <= report["overall"]["f1"] <= 1
    assert len(report["recordings"]) == 4


def test_evaluate_table(labelled_csv: Path, tiny_model_dir: Path):
    result = runner.invoke(app, ["evaluate", str(labelled_csv), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "Overall" in result.output


def test_demo_prints_episodes(tiny_model_dir: Path):
    result = runner.invoke(app, ["demo", "--model", str(tiny_model_dir), "--n-beats", "600"])
    assert result.exit_code == 0, result.output
    assert "Synthetic demo recording" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [("id,x\n1,800\n1,abc\n", "line 3, field 'x': not a number"), ("", "file is empty")],
)
def test_bad_input_is_a_message_not_a_traceback(tmp_path: Path, tiny_model_dir: Path, content: str, message: str):
    src = tmp_path / "bad.csv"
    src.write_text(content)
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_unlabelled_data_cannot_train_or_evaluate(tmp_path: Path, tiny_model_dir: Path):
    src = tmp_path / "u.csv"
    src.write_text("id,x\n1,800\n1,810\n")
    result = runner.invoke(app, ["train", "--data", str(src), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "needs labels" in result.output
    result = runner.invoke(app, ["evaluate", str(src), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2


def test_bad_model_folder(tmp_path: Path):
    src = tmp_path / "a.txt"
    src.write_text("800\n")
    result = runner.invoke(app, ["predict", str(src), "-o", str(tmp_path / "o.csv"), "-m", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a model artifact" in result.output


def test_serve_options_override_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_model_dir: Path):
    import cardiospike.serving.server as server

    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("CARDIOSPIKE_PORT", "9100")
    monkeypatch.setenv("CARDIOSPIKE_HOST", "0.0.0.0")
    seen: list[Any] = []
    monkeypatch.setattr(server, "run", seen.append)
    result = runner.invoke(app, ["serve", "--port", "9200", "--workers", "2", "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    (settings,) = seen
    assert (settings.host, settings.port, settings.workers, settings.model) == ("0.0.0.0", 9200, 2, tiny_model_dir)


def test_serve_with_a_wrong_model_stops_before_serving(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    import cardiospike.serving.server as server

    monkeypatch.setattr(server, "run", lambda settings: pytest.fail("must not serve"))
    result = runner.invoke(app, ["serve", "--model", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_serve_rejects_invalid_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code == 2
    assert "invalid settings" in result.output
    assert "port" in result.output


def test_ignore_time_scores_exports_with_unreliable_times(tmp_path: Path, tiny_model_dir: Path):
    src = tmp_path / "w.csv"
    src.write_text("id,time,x\n1,0,800\n1,800,810\n2,1610,700\n2,700,710\n")
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert "time is not increasing" in result.output
    result = runner.invoke(app, ["predict", str(src), "-o", str(out), "-m", str(tiny_model_dir), "--ignore-time"])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out)["time"].tolist() == [0, 810, 0, 710]


# --- where the scored CSV goes ---------------------------------------------------------------------------------------


def _predict(*args: str, model: Path) -> Any:
    return runner.invoke(app, ["predict", *args, "--model", str(model)])


def test_predict_refuses_to_write_over_its_input(labelled_csv: Path, tiny_model_dir: Path):
    before = labelled_csv.read_bytes()
    result = _predict(str(labelled_csv), "-o", str(labelled_csv), model=tiny_model_dir)
    assert result.exit_code == 2
    assert "is the input file" in result.output
    assert labelled_csv.read_bytes() == before


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_predict_refuses_targets_that_are_not_files(labelled_csv: Path, tiny_model_dir: Path, tmp_path: Path, kind):
    target = {"folder": tmp_path / "dir", "fifo": tmp_path / "pipe", "device": Path("/dev/null")}[kind]
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    result = _predict(str(labelled_csv), "-o", str(target), model=tiny_model_dir)
    assert result.exit_code == 2
    assert "is not a regular file" in result.output
    assert target.exists()
    assert not target.is_file()


def test_predict_replaces_a_symlinks_target_only_with_force(labelled_csv: Path, tiny_model_dir: Path, tmp_path: Path):
    real, link = tmp_path / "real.csv", tmp_path / "link.csv"
    real.write_text("old\n")
    link.symlink_to(real)
    refused = _predict(str(labelled_csv), "-o", str(link), model=tiny_model_dir)
    assert refused.exit_code == 2
    assert "symbolic link" in refused.output
    assert real.read_text() == "old\n"
    forced = _predict(str(labelled_csv), "-o", str(link), "--force", model=tiny_model_dir)
    assert forced.exit_code == 0, forced.output
    assert link.is_symlink()
    assert real.read_text().startswith("id,time,x,y,label,anomaly_proba,error")


def test_predict_keeps_a_replaced_files_mode_and_follows_the_umask(
    labelled_csv: Path, tiny_model_dir: Path, tmp_path: Path
):
    kept = tmp_path / "kept.csv"
    kept.write_text("old\n")
    kept.chmod(0o640)
    assert _predict(str(labelled_csv), "-o", str(kept), model=tiny_model_dir).exit_code == 0
    assert kept.stat().st_mode & 0o777 == 0o640
    old = os.umask(0o022)
    try:
        assert _predict(str(labelled_csv), "-o", str(tmp_path / "new.csv"), model=tiny_model_dir).exit_code == 0
    finally:
        os.umask(old)
    assert (tmp_path / "new.csv").stat().st_mode & 0o777 == 0o644
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_predict_to_standard_output(labelled_csv: Path, tiny_model_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = _predict(str(labelled_csv), "-o", "-", model=tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("id,time,x,y,label,anomaly_proba,error\n")
    assert not (tmp_path / "-").exists()


def test_predict_unwritable_output_is_one_line(labelled_csv: Path, tiny_model_dir: Path, tmp_path: Path):
    result = _predict(str(labelled_csv), "-o", str(labelled_csv / "sub" / "out.csv"), model=tiny_model_dir)
    assert result.exit_code == 2
    assert result.output.startswith("Error: cannot write"), result.output  # before any scoring
    assert result.output.strip().count("\n") == 0, result.output


@pytest.mark.parametrize("value", ["5", "-0.1", "nan"])
def test_threshold_must_lie_in_0_1(labelled_csv: Path, tiny_model_dir: Path, tmp_path: Path, value: str):
    result = _predict(str(labelled_csv), "-o", str(tmp_path / "o.csv"), "--threshold", value, model=tiny_model_dir)
    assert result.exit_code == 2
    assert "must be a number from 0 to 1" in result.output


def test_brackets_in_paths_and_messages_are_printed_as_they_are(tmp_path: Path, tiny_model_dir: Path):
    folder = tmp_path / "in [" / "] and [s3]"  # a path that holds "[/]", console markup's closing tag
    folder.mkdir(parents=True)
    missing = folder / "nothing [train].csv"
    result = _predict(str(missing), "-o", str(tmp_path / "o.csv"), model=tiny_model_dir)
    assert result.exit_code == 2
    assert "in [/] and [s3]" in result.output.replace("\n", "")
    assert "nothing [train].csv" in result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("cardiospike ")


def test_a_killed_write_leaves_only_a_visible_partial_file(labelled_csv: Path, tiny_model_dir: Path, tmp_path: Path):
    """SIGTERM during the run removes the partial file; only SIGKILL could leave one, named so it is found."""
    out = tmp_path / "scored.csv"
    # SIGTERM as the output is flushed to the disk (os.fsync), where the partial file holds it all but is not renamed.
    code = (
        "import os, signal, sys\n"
        "from cardiospike.cli import app\n"
        "real = os.fsync\n"
        "def interrupted(fd):\n"
        f"    partial = [n for n in os.listdir({str(tmp_path)!r}) if n.startswith('scored.csv.partial-')]\n"
        "    if partial:\n"
        "        print('SIGTERM while', *partial, 'was written', file=sys.stderr, flush=True)\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return real(fd)\n"
        "os.fsync = interrupted\n"
        f"app(['predict', {str(labelled_csv)!r}, '-o', {str(out)!r}, '-m', {str(tiny_model_dir)!r}])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "SIGTERM while scored.csv.partial-" in result.stderr, result.stderr
    assert result.returncode == 128 + signal.SIGTERM, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == [labelled_csv.name]


@pytest.mark.parametrize("args", [["search", "status"], ["search", "best", "-o", "best.yaml"], ["search", "run"]])
def test_the_search_without_its_extra_says_which_to_install(monkeypatch: pytest.MonkeyPatch, args: list[str]):
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if not installed: importing it fails
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "pip install 'cardiospike[search]'" in result.output
    assert "Traceback" not in result.output


def test_counts_are_singular_for_one(tmp_path: Path):
    one = tmp_path / "one.csv"
    one.write_text("id,time,x\na,0,800\n")
    result = runner.invoke(app, ["predict", str(one), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 0, result.output
    assert "1 beat:" in result.output
    assert "0 measurement errors" in result.output
