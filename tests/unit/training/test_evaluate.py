import numpy as np
import pandas as pd
import pytest

from cardiospike.training.evaluate import beat_metrics, recording_f1, recording_summary


def test_beat_metrics_by_hand():
    y = np.array([1, 1, 0, 0, 1])
    proba = np.array([0.9, 0.2, 0.7, 0.1, 0.6])
    m = beat_metrics(y, proba >= 0.5, proba)
    assert m["precision"] == pytest.approx(2 / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / (2 + 1))
    assert 0 < m["pr_auc"] <= 1


def test_recording_f1_worst_first_and_empty_recordings():
    ids = np.array(["a", "a", "b", "b", "c"])
    y = np.array([1, 0, 1, 0, 0], dtype=bool)
    pred = np.array([1, 0, 0, 1, 0], dtype=bool)
    table = recording_f1(ids, y, pred)
    assert table["id"].tolist() == ["b", "a", "c"]
    assert table.set_index("id").loc["a", "f1"] == 1.0
    assert table.set_index("id").loc["c", "f1"] == 1.0  # nothing to find, nothing flagged
    summary = recording_summary(table, worst=1)
    assert summary["worst"] == [{"id": "b", "f1": 0.0, "n_beats": 2}]
    assert isinstance(table, pd.DataFrame)


def test_beat_metrics_without_probabilities_has_no_pr_auc():
    m = beat_metrics(np.array([1, 0]), np.array([True, True]))
    assert "pr_auc" not in m
    assert m["precision"] == 0.5
