import lightgbm as lgb
import numpy as np
import pytest

from cardiospike.features import FeatureSpec, features_for_recordings
from cardiospike.models.forest import Forest, Runtime, compiled_available
from cardiospike.models.lgbm import LGBMBeatClassifier


@pytest.fixture(scope="module")
def xy(recordings):
    X = features_for_recordings(recordings, FeatureSpec())
    y = np.concatenate([r.labels for r in recordings])
    return X, y


def test_fit_predict_learns_synthetic_episodes(xy):
    X, y = xy
    model = LGBMBeatClassifier(n_estimators=60, learning_rate=0.2, num_leaves=7, n_jobs=1).fit(X[:2400], y[:2400])
    assert model.predict_proba(X[2400:]).shape == (len(X) - 2400, 2)
    pred = model.predict(X[2400:])
    tp = np.sum((pred == 1) & (y[2400:] == 1))
    assert tp / max(1, pred.sum()) > 0.5  # well above the 16% base rate


def test_early_stopping_uses_eval_set(xy):
    X, y = xy
    # Synthetic episodes are separable; label noise gives the validation loss a minimum to stop at.
    y = y ^ (np.random.default_rng(0).random(y.size) < 0.1)
    model = LGBMBeatClassifier(n_estimators=2000, learning_rate=0.3, early_stopping_rounds=5, n_jobs=1)
    model.fit(X[:2400], y[:2400], eval_set=(X[2400:], y[2400:]))
    assert 1 <= model.best_iteration_ < 2000


@pytest.mark.parametrize("runtime", ["lightgbm", "compiled"])
def test_text_round_trip_gives_identical_probabilities(xy, runtime: Runtime):
    if runtime == "compiled" and not compiled_available():
        pytest.skip("the 'fast' extra (lleaves) is not installed")
    X, y = xy
    model = LGBMBeatClassifier(n_estimators=20, n_jobs=1).fit(X, y)
    loaded = Forest(model.to_text()).load(runtime)
    np.testing.assert_allclose(loaded.anomaly_proba(X), model.predict_proba(X)[:, 1], rtol=0, atol=1e-12)
    assert loaded.n_features_in_ == X.shape[1]


def test_text_that_is_no_model_is_refused():
    with pytest.raises(ValueError, match="no trees"):
        Forest("this is not a model")


def test_training_is_lightgbm_on_the_same_parameters_and_labels(xy):
    # The scikit-learn checks (validation, classes_) must not change what LightGBM trains on: the same trees.
    X, y = xy
    model = LGBMBeatClassifier(n_estimators=15, n_jobs=1).fit(X, y)
    booster = lgb.train(model._lgb_params(), lgb.Dataset(X, label=y), num_boost_round=15)
    assert model.to_text() == booster.model_to_string(num_iteration=15)
    np.testing.assert_array_equal(model.classes_, [0, 1])


def test_a_fold_without_an_episode_keeps_both_classes(xy):
    X, y = xy
    model = LGBMBeatClassifier(n_estimators=5, n_jobs=1).fit(X, np.zeros_like(y))
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert model.predict_proba(X).shape == (len(X), 2)
    assert not model.predict(X).any()


def test_labels_other_than_two_classes_are_refused(xy):
    X, y = xy
    with pytest.raises(ValueError, match="Only binary classification"):
        LGBMBeatClassifier(n_estimators=5, n_jobs=1).fit(X, y + np.arange(len(y)) % 3)
    with pytest.raises(ValueError, match="needs two classes"):
        LGBMBeatClassifier(n_estimators=5, n_jobs=1).fit(X, np.full(len(y), "normal"))
