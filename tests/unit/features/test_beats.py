import numpy as np
import pytest

from cardiospike.features import FeatureSpec, beat_features, feature_names, features_for_recordings
from cardiospike.features.windows import WindowSums, distance_to_flags, normalise_rr, shifted, step_before


def test_shifted_pads_edges():
    cols = shifted(np.array([1.0, 2.0, 3.0]), range(-1, 2))
    np.testing.assert_array_equal(cols[1], [1, 2, 3])
    assert np.isnan(cols[0, 0])
    assert np.isnan(cols[2, 2])
    np.testing.assert_array_equal(shifted(np.array([1.0, 2.0]), range(1, 2), fill=-1)[:, 0], [2, -1])


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


def test_window_sums_skip_missing_and_match_a_direct_computation():
    rng = np.random.default_rng(1)
    values = rng.normal(size=50)
    values[[3, 10, 11]] = np.nan
    count, total, squares = WindowSums(values, 4).sums(3)
    padded = np.pad(values, 3, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 7)
    np.testing.assert_array_equal(count, np.sum(~np.isnan(windows), axis=1))
    np.testing.assert_allclose(total, np.nansum(windows, axis=1))
    np.testing.assert_allclose(squares, np.nansum(windows**2, axis=1))


def test_distance_to_flags():
    since, until = distance_to_flags(np.array([False, True, False, False, True, False]))
    np.testing.assert_array_equal(since[1:], [0, 1, 2, 0, 1])
    assert np.isnan(since[0])
    np.testing.assert_array_equal(until[:5], [1, 0, 2, 1, 0])
    assert np.isnan(until[5])


def test_step_before():
    np.testing.assert_array_equal(step_before(np.array([1.0, 3.0, 2.0]))[1:], [2, -1])


@pytest.mark.parametrize("n", [1, 2, 5, 17, 40])
def test_every_beat_gets_a_row_even_in_short_recordings(n):
    spec = FeatureSpec()
    rr = np.linspace(700, 900, n)
    X = beat_features(rr, spec)
    assert X.shape == (n, len(feature_names(spec)))
    assert X.dtype == np.float32
    assert np.isfinite(X[:, feature_names(spec).index("r_+0")]).all()


def test_local_statistics_match_their_definitions():
    spec = FeatureSpec()
    names = feature_names(spec)
    rr = np.array([800.0, 820, 790, 860, 800, 810, 805, 830, 800])
    X = beat_features(rr, spec).astype(np.float64)
    med = np.median(rr)
    window = rr[2:7] / med  # centred on beat 4, half-width 2
    steps = np.diff(rr / med)[1:6]  # successive differences into beats 2..6
    assert X[4, names.index("mean_5")] == pytest.approx(window.mean(), rel=1e-5)
    assert X[4, names.index("sdnn_5")] == pytest.approx(window.std(), rel=1e-4)
    assert X[4, names.index("rmssd_5")] == pytest.approx(np.sqrt(np.mean(steps**2)), rel=1e-4)
    assert X[4, names.index("hr_relative")] == pytest.approx(med / rr[4], rel=1e-5)


def test_spike_shape_is_found():
    spec = FeatureSpec()
    names = feature_names(spec)
    rr = np.full(40, 600.0)
    rr[20], rr[21] = 650.0, 550.0  # up then down, as labelled episodes look
    X = beat_features(rr, spec)
    spike = X[:, names.index("spike_+0")]
    assert np.nanargmax(spike) == 20
    assert X[17, names.index("until_spike_0.05")] == 3
    assert X[23, names.index("since_spike_0.05")] == 3


def test_features_are_scale_free_in_rr_and_mask_out_of_range_beats():
    spec = FeatureSpec()
    names = feature_names(spec)
    rng = np.random.default_rng(0)
    rr = rng.normal(700, 20, 60)
    a, b = beat_features(rr, spec), beat_features(rr * 1.2, spec)
    for i, name in enumerate(names):
        if name.startswith(("r_", "d_", "sdnn", "rmssd", "spike_")):
            np.testing.assert_allclose(a[:, i], b[:, i], rtol=1e-5, equal_nan=True)
    rr[30] = 5000
    X = beat_features(rr, spec)
    assert np.isnan(X[30, names.index("r_+0")])
    assert X[30, names.index("valid")] == 0
    assert np.isnan(X[29, names.index("r_+1")])


def test_features_for_recordings_stacks_in_order(recordings):
    spec = FeatureSpec()
    X = features_for_recordings(recordings[:2], spec)
    np.testing.assert_array_equal(X[: len(recordings[0])], beat_features(recordings[0].rr, spec))
    assert X.shape[0] == len(recordings[0]) + len(recordings[1])


def test_spec_round_trips_through_dict():
    spec = FeatureSpec(half_window=5, stat_halves=(3,), spike_thresholds=(0.04,))
    assert FeatureSpec.from_dict(spec.to_dict()) == spec
