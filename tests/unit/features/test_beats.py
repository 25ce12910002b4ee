import numpy as np
import pytest

from cardiospike.features import FeatureSpec, beat_features, feature_names, features_for_recordings
from cardiospike.features.windows import centred_windows, normalise_rr, rolling_hrv


def test_centred_windows_pad_edges_with_nan():
    win = centred_windows(np.array([1.0, 2.0, 3.0]), 1)
    np.testing.assert_array_equal(win[1], [1, 2, 3])
    assert np.isnan(win[0, 0])
    assert np.isnan(win[2, 2])


def test_normalise_rr_masks_invalid_and_uses_valid_median():
    rr = np.array([800.0, 900.0, 1000.0, 50.0])
    r, median = normalise_rr(rr, rr > 300)
    assert median == 900.0
    np.testing.assert_allclose(r[:3], rr[:3] / 900)
    assert np.isnan(r[3])


def test_normalise_rr_without_valid_beats():
    r, median = normalise_rr(np.array([10.0, 20.0]), np.array([False, False]))
    assert np.isnan(median)
    assert np.isnan(r).all()


def test_rolling_hrv_matches_definitions_in_the_middle():
    rr = np.array([800.0, 820, 790, 860, 800, 810, 805])
    r, med = normalise_rr(rr, np.ones(7, bool))
    stats = rolling_hrv(r, 2, med)
    window = rr[1:6]
    steps = np.diff(window)
    assert stats["rmssd"][3] * med == pytest.approx(np.sqrt(np.mean(steps**2)))
    assert stats["sdnn"][3] * med == pytest.approx(np.std(window))
    assert stats["pnn50"][3] == pytest.approx(np.mean(np.abs(steps) > 50))
    assert stats["hr"][3] == pytest.approx(60000 / window.mean())


@pytest.mark.parametrize("n", [1, 2, 5, 17, 40])
def test_every_beat_gets_a_row_even_in_short_recordings(n):
    spec = FeatureSpec()
    rr = np.linspace(700, 900, n)
    X = beat_features(rr, spec)
    assert X.shape == (n, len(feature_names(spec)))
    assert X.dtype == np.float32
    centre = feature_names(spec).index("r_+0")
    assert np.isfinite(X[:, centre]).all()


def test_features_are_scale_free_in_rr_and_mask_out_of_range_beats():
    spec = FeatureSpec()
    names = feature_names(spec)
    rng = np.random.default_rng(0)
    rr = rng.normal(700, 20, 60)
    a, b = beat_features(rr, spec), beat_features(rr * 1.2, spec)
    for i, name in enumerate(names):
        if name.startswith(("r_", "d_", "sdnn", "rmssd")):
            np.testing.assert_allclose(a[:, i], b[:, i], rtol=1e-5, equal_nan=True)
    rr[30] = 5000
    X = beat_features(rr, spec)
    assert np.isnan(X[30, names.index("r_+0")])
    assert X[30, names.index("valid_+0")] == 0
    assert X[29, names.index("valid_+1")] == 0


def test_features_for_recordings_stacks_in_order(recordings):
    spec = FeatureSpec()
    X = features_for_recordings(recordings[:2], spec)
    np.testing.assert_array_equal(X[: len(recordings[0])], beat_features(recordings[0].rr, spec))
    assert X.shape[0] == len(recordings[0]) + len(recordings[1])


def test_spec_round_trips_through_dict():
    spec = FeatureSpec(half_window=5, hrv_halves=(3,))
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
