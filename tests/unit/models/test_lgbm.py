import numpy as np
import pytest

from cardiospike.features import FeatureSpec, features_for_recordings
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


def test_text_round_trip_gives_identical_probabilities(xy):
    X, y = xy
    model = LGBMBeatClassifier(n_estimators=20, n_jobs=1).fit(X, y)
    loaded = LGBMBeatClassifier.from_text(model.to_text())
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-12)
    assert loaded.n_features_in_ == X.shape[1]


def test_from_text_rejects_garbage():
    with pytest.raises(ValueError, match="not a LightGBM model"):
        LGBMBeatClassifier.from_text("this is not a model")
