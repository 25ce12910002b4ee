import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import recordings_to_frame, write_csv_atomic

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


def test_train_writes_an_artifact_with_the_command_and_config(tmp_path: Path, labelled_csv: Path):
    out = tmp_path / "model"
    args = ["train", "--data", str(labelled_csv), "--out", str(out), "debug=default", "model.lgbm.num_leaves=5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    config = manifest["training"]["config"]
    assert config["cv"] == {"outer": 2, "inner": 2, "seed": 42}
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
    assert scored.columns.tolist() == ["id", "time", "x", "y", "anomaly_proba", "error"]
    assert scored[["id", "time", "x"]].equals(source[["id", "time", "x"]])
    assert scored["anomaly_proba"].between(0, 1).all()


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
    report = json.loads(result.output)
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
