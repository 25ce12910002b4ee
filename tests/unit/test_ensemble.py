import numpy as np
import pytest

from cardiospike.ensemble import Stacker, fit_stacker, log_odds


def test_stacker_learns_to_trust_the_informative_model():
    rng = np.random.default_rng(0)
    y = rng.random(5000) < 0.2
    good = np.clip(np.where(y, 0.8, 0.2) + rng.normal(0, 0.1, y.size), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, y.size)
    stacker = fit_stacker(np.column_stack([good, noise]), y, ["good", "noise"])
    assert stacker.coef[0] > 5 * abs(stacker.coef[1])
    stacked = stacker.anomaly_proba(np.column_stack([good, noise]))
    assert np.mean((stacked >= 0.5) == y) > 0.95


def test_stacker_round_trips_through_json_data():
    stacker = Stacker(names=("lgbm", "nn"), coef=(1.5, 0.7), intercept=-0.3)
    assert Stacker.from_dict(stacker.to_dict()) == stacker
    p = np.array([[0.9, 0.8], [0.1, 0.2]])
    expected = 1 / (1 + np.exp(-(-0.3 + log_odds(p) @ np.array([1.5, 0.7]))))
    np.testing.assert_allclose(stacker.anomaly_proba(p), expected)


def test_stacker_checks_the_number_of_base_models():
    with pytest.raises(ValueError, match="2 base models"):
        Stacker(names=("a", "b"), coef=(1.0, 1.0), intercept=0.0).anomaly_proba(np.zeros((3, 1)))


def test_log_odds_are_finite_at_the_edges():
    assert np.isfinite(log_odds(np.array([0.0, 1.0]))).all()
