"""The training run: the data a configuration names, and the provenance a model's manifest records."""

import hashlib
import json
from pathlib import Path

import pytest

from cardiospike.data import recordings_to_frame, write_csv_atomic
from cardiospike.training.run import TrainingRun, load_recordings


def test_the_tiny_model_records_where_it_comes_from(tiny_model_dir: Path, recordings):
    training = json.loads((tiny_model_dir / "manifest.json").read_text())["training"]
    data = Path(training["config"]["data"]["path"])
    assert training["command"].startswith("pytest")
    assert training["data"] == {
        "file": data.name,
        "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
        "n_recordings": len(recordings),
        "n_beats": sum(len(r) for r in recordings),
    }
    assert training["config"]["cv"]["outer"] == 2  # debug=default
    assert training["config"]["model"]["nn"]["enabled"] is False  # model/nn=none


def test_load_recordings_reads_the_file_and_keeps_the_first(tmp_path: Path, recordings):
    path = tmp_path / "train.csv"
    write_csv_atomic(recordings_to_frame(recordings), path)
    loaded = load_recordings({"path": str(path), "max_recordings": 3})
    assert [r.id for r in loaded] == [r.id for r in recordings[:3]]


def test_load_recordings_simulates_and_needs_labels(tmp_path: Path):
    synthetic = {"enabled": True, "recordings": 2, "beats": 50, "seed": 0}
    assert [len(r) for r in load_recordings({"path": "unused", "synthetic": synthetic})] == [50, 50]
    path = tmp_path / "u.csv"
    path.write_text("id,x\n1,800\n1,810\n")
    with pytest.raises(ValueError, match=r"u\.csv: training needs labels"):
        load_recordings({"path": str(path)})


def test_a_run_counts_its_steps_before_it_runs():
    run = TrainingRun.compose(["debug=default", "model/nn=none"])
    assert run.n_steps == 2 * (2 + 1) + 2 + 1
    assert "nn" not in run.config.models
