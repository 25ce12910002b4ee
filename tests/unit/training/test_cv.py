import numpy as np
import pytest

from cardiospike.features import FeatureSpec
from cardiospike.training.cv import TrainConfig, count_steps, fold_views, train
from tests.conftest import debug_config


@pytest.fixture(scope="module")
def config() -> TrainConfig:
    """LightGBM alone: the engine's own behaviour, quickly."""
    return debug_config("model/nn=none")


def test_train_reports_nested_cv_and_returns_a_fitted_model(recordings, config):
    steps: list[str] = []
    result = train(recordings, config, step=steps.append)
    assert len(steps) == count_steps(config.cv)
    report = result.report
    assert len(report["folds"]) == config.cv.outer
    assert sum(f["n_recordings"] for f in report["folds"]) == len(recordings)
    assert report["outer"]["n_beats"] == sum(len(r) for r in recordings)
    # Synthetic spikes are easy: the honest outer estimate is far above the base rate.
    assert report["outer"]["f1"] > 0.6
    assert 0 < result.postprocess.threshold < 1
    rounds = result.fitted.tuning.rounds
    assert 1 <= rounds["lgbm"] <= config.models["lgbm"]["n_estimators"]
    assert result.fitted.models["lgbm"].best_iteration_ == rounds["lgbm"]
    assert result.fitted.tuning.stacker is None
    assert set(report["base_models"]) == {"lgbm"}
    assert set(report["per_recording_f1"]) >= {"mean", "q25", "median", "q75", "worst"}


def test_train_is_deterministic(recordings, config):
    a = train(recordings[:4], config)
    b = train(recordings[:4], config)
    assert a.report["f1_per_fold"] == b.report["f1_per_fold"]
    assert a.postprocess == b.postprocess
    assert np.isclose(a.report["outer"]["pr_auc"], b.report["outer"]["pr_auc"])


def test_train_needs_labels(recordings, config):
    from dataclasses import replace

    with pytest.raises(ValueError, match="labelled"):
        train([replace(recordings[0], labels=None)], config)


def test_outer_predictions_keep_every_beat_and_save_without_pickle(recordings, config, tmp_path):
    from cardiospike.training.cv import outer_predictions
    from cardiospike.training.learners import TrainingData

    data = TrainingData.build(recordings[:6], config.features)
    outer = outer_predictions(data, config)
    assert set(np.unique(outer.fold)) == set(range(config.cv.outer))
    assert outer.flags.shape == outer.y.shape == outer.base_flags[:, 0].shape
    report = outer.report(config.cv.protocol)
    assert report["episodes"]["found"] + report["episodes"]["missed"] > 0
    assert report["outer"]["n_beats"] == outer.y.size
    outer.save(tmp_path / "outer.npz")
    with np.load(tmp_path / "outer.npz", allow_pickle=False) as saved:
        assert saved["ids"].tolist() == [str(i) for i in outer.ids]
        assert np.array_equal(saved["flags"], outer.flags)
        assert saved["names"].tolist() == ["lgbm"]
        # The other views of the outer folds: their recordings laid end to end and cut into pieces.
        assert saved["long_y"].size >= config.cv.outer * config.cv.long_beats
        assert np.array_equal(saved["pieces_y"], outer.views["pieces"].y)


def test_the_report_scores_each_outer_fold_laid_end_to_end_and_in_pieces(recordings, config):
    from cardiospike.training.cv import outer_predictions
    from cardiospike.training.learners import TrainingData

    data = TrainingData.build(recordings[:6], config.features)
    report = outer_predictions(data, config).report(config.cv.protocol)
    long, pieces = report["views"]["long"], report["views"]["pieces"]
    assert long["n_beats"] >= config.cv.outer * config.cv.long_beats
    assert pieces["n_beats"] == report["outer"]["n_beats"]  # every beat once, in pieces
    assert len(long["f1_per_fold"]) == len(pieces["f1_per_fold"]) == config.cv.outer
    # Features of bounded context: the same beats score about alike in every view (synthetic spikes are easy).
    assert abs(long["f1"] - report["outer"]["f1"]) < 0.05
    assert abs(pieces["f1"] - report["outer"]["f1"]) < 0.05


def test_no_views_are_scored_where_the_long_view_has_no_beats():
    """cv.long_beats=0 skips the views (a quicker run) instead of failing on an empty recording."""
    assert fold_views(None, [], FeatureSpec(), seed=0, long_beats=0) == {}  # type: ignore[arg-type]
