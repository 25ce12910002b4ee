import numpy as np
import pytest

from cardiospike.models.postprocess import (
    PostProcess,
    choose_postprocess,
    drop_short_runs,
    fill_gaps,
    run_lengths,
    smooth_within,
)

LENGTHS = np.array([5, 4])


def flags(*bits: int) -> np.ndarray:
    return np.array(bits, dtype=bool)


def test_smoothing_never_crosses_recordings():
    smoothed = smooth_within(np.arange(9.0), LENGTHS, 1)
    np.testing.assert_allclose(smoothed, [0.5, 1, 2, 3, 3.5, 5.5, 6, 7, 7.5])
    np.testing.assert_array_equal(smooth_within(np.arange(9.0), LENGTHS, 0), np.arange(9.0))


def test_fill_gaps_only_between_runs_of_one_recording():
    f = flags(1, 0, 1, 1, 0, 1, 0, 0, 1)
    np.testing.assert_array_equal(fill_gaps(f, LENGTHS, 1), flags(1, 1, 1, 1, 0, 1, 0, 0, 1))
    np.testing.assert_array_equal(fill_gaps(f, LENGTHS, 2), flags(1, 1, 1, 1, 0, 1, 1, 1, 1))
    # The hole at index 4 ends recording one: never filled, whatever the gap size.
    assert not fill_gaps(f, LENGTHS, 5)[4]


def test_drop_short_runs_breaks_runs_at_recording_boundaries():
    np.testing.assert_array_equal(
        drop_short_runs(flags(1, 0, 1, 1, 0, 1, 0, 0, 1), LENGTHS, 2), flags(0, 0, 1, 1, 0, 0, 0, 0, 0)
    )
    all_on = np.ones(9, dtype=bool)
    np.testing.assert_array_equal(drop_short_runs(all_on, LENGTHS, 5), flags(1, 1, 1, 1, 1, 0, 0, 0, 0))


def test_run_lengths():
    np.testing.assert_array_equal(run_lengths(np.array(["a", "a", "b", "b", "b", "a"])), [2, 3, 1])
    assert run_lengths(np.array([])).size == 0


def test_choose_postprocess_finds_what_cleans_noisy_episodes():
    rng = np.random.default_rng(0)
    y = np.zeros(4000, dtype=bool)
    for start in range(50, 4000, 100):
        y[start : start + 10] = True
    # Probabilities with holes inside episodes and isolated false alarms outside.
    proba = np.where(y, 0.8, 0.1) + rng.normal(0, 0.05, y.size)
    proba[np.flatnonzero(y)[3::7]] = 0.0
    proba[rng.choice(np.flatnonzero(~y), 60, replace=False)] = 0.9
    lengths = np.array([2000, 2000])
    plain = PostProcess(threshold=0.5)
    best, f1 = choose_postprocess(y, proba, lengths)
    plain_f1 = choose_postprocess(y, proba, lengths, smooths=(0,), max_gaps=(0,), min_runs=(1,))[1]
    assert f1 > plain_f1
    assert best.max_gap >= 1 or best.smooth >= 1
    assert best.min_run >= 2 or best.smooth >= 1
    np.testing.assert_array_equal(plain.flags(proba, lengths), proba >= 0.5)


def test_choose_postprocess_prefers_no_post_processing_on_ties():
    y = flags(0, 1, 1, 1, 0)
    best, f1 = choose_postprocess(y, y.astype(float), np.array([5]))
    assert f1 == pytest.approx(1.0)
    assert (best.smooth, best.max_gap, best.min_run) == (0, 0, 1)
