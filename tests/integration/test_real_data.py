"""Checks on the real competition data in ../shared/data/cardiospike (skipped where it is absent)."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import read_recordings
from cardiospike.detector import default_model_path, load_detector
from cardiospike.recording import measurement_errors
from tests.conftest import real_data

pytestmark = pytest.mark.real_data


@pytest.mark.parametrize(
    ("name", "rows", "n_recordings", "labelled", "has_errors"),
    [
        ("train.csv", 49_178, 183, True, True),
        ("test.csv", 15_034, 46, False, True),
        ("welltory.csv", 2_310, 21, False, False),
    ],
)
def test_real_files_read_completely(name: str, rows: int, n_recordings: int, labelled: bool, has_errors: bool):
    # welltory.csv carries each recording's first time over from the recording before: retime by RR.
    recordings = read_recordings(real_data(name), use_time=name != "welltory.csv")
    assert len(recordings) == n_recordings
    assert sum(len(r) for r in recordings) == rows
    assert all((r.labels is not None) == labelled for r in recordings)
    # Out-of-range beats such as 12 ms or 40,900 ms are kept, not dropped.
    assert any(measurement_errors(r.rr).any() for r in recordings) == has_errors


def test_default_model_was_trained_on_this_train_csv():
    manifest = json.loads((default_model_path() / "manifest.json").read_text())
    digest = hashlib.sha256(real_data("train.csv").read_bytes()).hexdigest()
    assert manifest["training"]["data"]["sha256"] == digest
    assert manifest["training"]["command"].startswith("cardiospike train")
    # A floor far above flagging every beat (F1 0.26), not the target: the benchmarks report the figure itself.
    assert manifest["cv"]["outer"]["f1"] >= 0.80


def test_default_model_scores_unseen_recordings_plausibly():
    detector = load_detector()
    recordings = read_recordings(real_data("test.csv"))
    scored = detector.score_many(recordings)
    flagged = np.concatenate([s.is_anomaly for s in scored])
    assert flagged.size == 15_034
    # Positives are 14.7% of labelled beats; unseen recordings from the same study should look alike.
    assert 0.05 < flagged.mean() < 0.30


def test_cli_predict_on_test_csv_keeps_every_row_in_order(tmp_path: Path):
    source = real_data("test.csv")
    out = tmp_path / "submission.csv"
    result = CliRunner().invoke(app, ["predict", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    scored, original = pd.read_csv(out), pd.read_csv(source)
    assert scored[["id", "time", "x"]].equals(original[["id", "time", "x"]])
    assert set(scored["y"].unique()) <= {0, 1}


def test_welltory_times_are_a_clear_error_unless_ignored():
    from cardiospike.data import RecordingFormatError

    with pytest.raises(RecordingFormatError, match=r"welltory\.csv, line 103, field 'time'"):
        read_recordings(real_data("welltory.csv"))
