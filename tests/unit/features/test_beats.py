import numpy as np
import pytest

from cardiospike.features import FeatureSpec, beat_features, feature_names, features_for_recordings
from cardiospike.features.windows import (
    WindowSums,
    _nan_median_of_rows,
    distance_to_flags,
    local_outliers,
    step_before,
)
from cardiospike.recording import Recording


@pytest.mark.parametrize(
    ("rr", "median"),
    [([800.0, 900.0, 1000.0, 50.0], 900.0), ([800.0, 900.0, 1000.0, 1100.0], 950.0), ([10.0, 20.0], None)],
)
def test_rr_is_relative_to_the_median_of_the_valid_beats(rr: list[float], median: float | None):
    names = feature_names(FeatureSpec())
    X = beat_features(np.array(rr), FeatureSpec())
    if median is None:  # no valid beat: nothing is relative to anything
        assert np.isnan(X[:, names.index("median_rr")]).all()
        assert np.isnan(X[:, names.index("r_+0")]).all()
        return
    assert (X[:, names.index("median_rr")] == median).all()
    valid = (np.array(rr) > 300) & (np.array(rr) < 1400)
    np.testing.assert_allclose(X[valid, names.index("r_+0")], np.array(rr)[valid] / median, rtol=1e-6)


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


def test_distance_to_flags_stays_within_each_recording():
    flags = np.array([True, False, False, False, False, True])
    first, stop = np.array([0, 0, 0, 3, 3, 3]), np.array([3, 3, 3, 6, 6, 6])  # two recordings of 3 beats
    since, until = distance_to_flags(flags, first, stop)
    np.testing.assert_array_equal(since[:3], [0, 1, 2])
    assert np.isnan(since[3:5]).all()
    assert np.isnan(until[1:3]).all()
    np.testing.assert_array_equal(until[3:], [2, 1, 0])


def test_local_outliers_are_missed_or_extra_beats():
    rr = np.full(40, 600.0)
    rr[10], rr[20], rr[30] = 1200.0, 300.0, 650.0  # a missed beat, an extra one, a spike (8%)
    outliers = local_outliers(rr, 0.3)
    np.testing.assert_array_equal(np.flatnonzero(outliers), [10, 20])


def test_local_medians_equal_numpys_nanmedian():
    rng = np.random.default_rng(3)
    rows = rng.normal(800, 50, (500, 17))
    rows[rng.random(rows.shape) < 0.3] = np.nan
    rows[:3] = np.nan  # windows without a value: no median
    rows[3], rows[4] = rng.normal(800, 50, 17), rng.normal(800, 50, 17)
    rows[3, :8] = np.nan  # nine values (odd)
    rows[4, :9] = np.nan  # eight values (even)
    with pytest.warns(RuntimeWarning):
        expected = np.nanmedian(rows, axis=1)
    np.testing.assert_array_equal(_nan_median_of_rows(rows), expected)


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


@pytest.mark.parametrize("local_tolerance", [None, 0.3])  # without the mask, as models saved before it
def test_many_recordings_at_once_equal_each_alone(recordings, local_tolerance):
    """Features never cross a recording's edge: only the rounding of the running window sums may differ."""
    spec = FeatureSpec(local_tolerance=local_tolerance)
    rng = np.random.default_rng(3)
    recs = [*recordings[:3], Recording.from_rr([800.0]), Recording.from_rr(rng.normal(700, 30, 7)), recordings[3]]
    together = features_for_recordings(recs, spec)
    alone = np.vstack([beat_features(r.rr, spec) for r in recs])
    assert together.shape == alone.shape
    np.testing.assert_array_equal(np.isnan(together), np.isnan(alone))
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-5, equal_nan=True)
    np.testing.assert_array_equal(together[: len(recs[0])], alone[: len(recs[0])])  # the first: identical


def test_local_tolerance_masks_the_outliers_in_every_feature():
    rr = np.full(60, 600.0)
    rr[30] = 1190.0  # a missed beat inside the model's range
    names = feature_names(FeatureSpec())
    plain, masked = beat_features(rr, FeatureSpec(local_tolerance=None)), beat_features(rr, FeatureSpec())
    assert plain[30, names.index("valid")] == 1
    assert masked[30, names.index("valid")] == 0
    assert np.isnan(masked[30, names.index("r_+0")])
    assert plain[31, names.index("since_spike_0.08")] == 1  # the missed beat looked like a huge spike
    assert np.isnan(masked[31, names.index("since_spike_0.08")])


def test_a_feature_set_saved_before_the_local_mask_reads_without_it():
    saved = FeatureSpec(local_tolerance=None).to_dict()
    del saved["local_tolerance"]
    assert FeatureSpec.from_dict(saved).local_tolerance is None
    assert FeatureSpec().local_tolerance == 0.3


def test_spec_round_trips_through_dict():
    spec = FeatureSpec(half_window=5, stat_halves=(3,), spike_thresholds=(0.04,))
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_a_reach_shorter_than_the_feature_windows_is_refused():
    spec = FeatureSpec()
    assert spec.window_reach == max(spec.stat_halves)
    assert FeatureSpec(reach=spec.window_reach).reach == spec.window_reach
    with pytest.raises(ValueError, match="shorter than the feature windows"):
        FeatureSpec(reach=spec.window_reach - 1)


def test_feature_sets_saved_with_an_unused_median_back_still_load():
    saved = {**FeatureSpec().to_dict(), "median_back": None}
    assert FeatureSpec.from_dict(saved) == FeatureSpec()
    with pytest.raises(ValueError, match="median_back"):
        FeatureSpec.from_dict({**saved, "median_back": 64})
