import numpy as np
import pandas as pd
import pytest

from cardiospike.detector import load_detector
from cardiospike.training.evaluate import beat_metrics, evaluate_detector, recording_f1, recording_summary


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


def test_evaluate_detector_scores_every_recording(tiny_model_dir, recordings):
    evaluation = evaluate_detector(load_detector(tiny_model_dir), recordings[:3])
    assert evaluation.overall["n_beats"] == sum(len(r) for r in recordings[:3])
    assert sorted(evaluation.per_recording["id"]) == sorted(r.id for r in recordings[:3])
    report = evaluation.to_dict()
    assert set(report) == {"overall", "per_recording_f1", "recordings"}
    assert len(report["recordings"]) == 3


def test_evaluate_detector_needs_labels(tiny_model_dir, recordings):
    from dataclasses import replace

    with pytest.raises(ValueError, match="needs labels"):
        evaluate_detector(load_detector(tiny_model_dir), [replace(recordings[0], labels=None)])
