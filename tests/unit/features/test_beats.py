import numpy as np
import pytest

from cardiospike.features import FeatureSpec, beat_features, feature_names, features_for_recordings
from cardiospike.features.windows import (
    WindowSums,
    _nan_median_of_rows,
    centred_median,
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
    """In a recording shorter than the level's window, the level is the median of all its valid beats."""
    names = feature_names(FeatureSpec())
    X = beat_features(np.array(rr), FeatureSpec())
    if median is None:  # no valid beat: nothing is relative to anything
        assert np.isnan(X[:, names.index("level_rr")]).all()
        assert np.isnan(X[:, names.index("r_+0")]).all()
        return
    assert (X[:, names.index("level_rr")] == median).all()
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


@pytest.mark.parametrize("local_tolerance", [None, 0.3])  # without the mask too
def test_many_recordings_at_once_equal_each_alone(recordings, local_tolerance):
    """Features never cross a recording's edge: to the bit, as window sums are added outward from each beat."""
    spec = FeatureSpec(local_tolerance=local_tolerance)
    rng = np.random.default_rng(3)
    recs = [*recordings[:3], Recording.from_rr([800.0]), Recording.from_rr(rng.normal(700, 30, 7)), recordings[3]]
    together = features_for_recordings(recs, spec)
    alone = np.vstack([beat_features(r.rr, spec) for r in recs])
    assert together.shape == alone.shape
    np.testing.assert_array_equal(np.isnan(together), np.isnan(alone))
    np.testing.assert_array_equal(together, alone)
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


def test_spec_round_trips_through_dict():
    spec = FeatureSpec(half_window=5, stat_halves=(3,), spike_thresholds=(0.04,))
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_feature_sets_that_read_whole_recordings_are_refused_with_the_remedy():
    saved = {**FeatureSpec().to_dict(), "name": "spike-context-v2", "reach": None, "median_back": None}
    del saved["level_half"]
    with pytest.raises(ValueError, match=r"reads whole recordings.*retrain the model"):
        FeatureSpec.from_dict(saved)


def test_the_reach_is_recorded_and_checked():
    spec = FeatureSpec(level_half=64, distance_reach=10)
    # The windows (16 beats) reach a beat whose level looks 64 beats on, whose validity looks 8 more, and a step 1.
    assert spec.to_dict()["reach"] == spec.reach == 16 + 64 + 8 + 1
    with pytest.raises(ValueError, match="reach 10 does not match"):
        FeatureSpec.from_dict({**spec.to_dict(), "reach": 10})


def test_the_level_is_the_median_of_the_beats_around():
    """A heart rate that changes through a long recording: RR is relative to the level around each beat."""
    spec = FeatureSpec(level_half=32)
    names = feature_names(spec)
    rr = np.concatenate([np.full(300, 600.0), np.full(300, 900.0)])
    X = beat_features(rr, spec)
    level = X[:, names.index("level_rr")]
    assert (level[:250] == 600).all()
    assert (level[350:] == 900).all()
    r = X[:, names.index("r_+0")]
    np.testing.assert_allclose(r[:250], 1.0)
    np.testing.assert_allclose(r[350:], 1.0)
    # Bottleneck's moving median equals numpy's over each clipped window, missing values skipped.
    rng = np.random.default_rng(4)
    x = rng.normal(800, 40, 500)
    x[rng.random(500) < 0.2] = np.nan
    x[100:140] = np.nan  # a window without a value: NaN
    expected = [
        np.nanmedian(x[max(i - 16, 0) : i + 17]) if np.isfinite(x[max(i - 16, 0) : i + 17]).any() else np.nan
        for i in range(500)
    ]
    np.testing.assert_array_equal(centred_median(x, 16), expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_beats_features_depend_only_on_the_beats_within_reach(seed: int):
    """The same beats inside a longer recording, anywhere in it, get the same features, however long it is."""
    spec = FeatureSpec(level_half=40)
    rng = np.random.default_rng(seed)
    middle = 700 + 30 * rng.standard_normal(300)
    middle[rng.random(300) < 0.05] = 2000.0  # measurement errors too
    before, after = rng.normal(500, 50, 1000), rng.normal(1000, 80, 700)
    alone = beat_features(middle, spec)
    inside = beat_features(np.concatenate([before, middle, after]), spec)[1000:1300]
    far = slice(spec.reach, 300 - spec.reach)  # beats further than reach from the ends of the middle part
    assert not np.array_equal(alone[: spec.reach], inside[: spec.reach], equal_nan=True)  # the edges differ
    np.testing.assert_array_equal(np.isnan(alone[far]), np.isnan(inside[far]))
    # Identical to the bit: window sums are added outward from each beat, wherever the recording starts.
    np.testing.assert_array_equal(alone[far], inside[far])
    names = feature_names(spec)
    exact = [names.index(n) for n in ("level_rr", "r_+0", "beats_from_start", "beats_to_end", "since_spike_0.05")]
    np.testing.assert_array_equal(alone[far][:, exact], inside[far][:, exact])
