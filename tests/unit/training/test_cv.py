import numpy as np

from cardiospike.training.cv import count_steps, train
from tests.conftest import TINY_CONFIG


def test_train_reports_nested_cv_and_returns_a_fitted_model(recordings):
    steps: list[str] = []
    result = train(recordings, TINY_CONFIG, step=steps.append)
    assert len(steps) == count_steps(TINY_CONFIG.cv)
    report = result.report
    assert len(report["folds"]) == TINY_CONFIG.cv.outer
    assert sum(f["n_recordings"] for f in report["folds"]) == len(recordings)
    assert report["outer"]["n_beats"] == sum(len(r) for r in recordings)
    # Synthetic spikes are easy: the honest outer estimate is far above the base rate.
    assert report["outer"]["f1"] > 0.6
    assert 0 < result.postprocess.threshold < 1
    rounds = result.fitted.tuning.rounds
    assert 1 <= rounds["lgbm"] <= TINY_CONFIG.models["lgbm"]["n_estimators"]
    assert result.fitted.models["lgbm"].best_iteration_ == rounds["lgbm"]
    assert result.fitted.tuning.stacker is None
    assert set(report["base_models"]) == {"lgbm"}
    assert set(report["per_recording_f1"]) >= {"mean", "q25", "median", "q75", "worst"}


def test_train_is_deterministic(recordings):
    a = train(recordings[:4], TINY_CONFIG)
    b = train(recordings[:4], TINY_CONFIG)
    assert a.report["f1_per_fold"] == b.report["f1_per_fold"]
    assert a.postprocess == b.postprocess
    assert np.isclose(a.report["outer"]["pr_auc"], b.report["outer"]["pr_auc"])


def test_train_needs_labels(recordings):
    from dataclasses import replace

    import pytest

    with pytest.raises(ValueError, match="labelled"):
        train([replace(recordings[0], labels=None)], TINY_CONFIG)
