import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardiospike.report.decimate import decimated_line, min_max_indices


def _buckets(x: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(((x - x[0]) * (n / (x[-1] - x[0]))).astype(int), n - 1)


@given(st.integers(1, 5000), st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_every_bucket_keeps_its_lowest_and_highest_beat(n: int, buckets: int, seed: int):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.uniform(300, 1500, n))
    y = np.round(rng.normal(800, 80, n))
    kept, bucket = min_max_indices(x, y, buckets)
    assert np.all(np.diff(kept) > 0)  # sorted, no repeats
    which = _buckets(x, buckets) if n > 1 else np.zeros(1, dtype=int)
    np.testing.assert_array_equal(bucket, which[kept])
    for b in np.unique(which):
        inside = np.flatnonzero(which == b)
        mine = kept[bucket == b]
        assert 1 <= mine.size <= 2
        assert y[mine].min() == y[inside].min()
        assert y[mine].max() == y[inside].max()


def test_few_beats_are_kept_whole_and_nothing_is_nothing():
    x = np.array([0.0, 800.0, 1600.0])
    kept, _ = min_max_indices(x, np.array([800.0, 820.0, 790.0]), buckets=10)
    assert kept.tolist() == [0, 1, 2]
    assert min_max_indices(np.zeros(0), np.zeros(0))[0].size == 0
    same_time = min_max_indices(np.zeros(4), np.array([3.0, 1.0, 4.0, 1.0]))[0]
    assert same_time.tolist() == [1, 2]  # one bucket: its first lowest and its highest


def test_the_line_breaks_where_a_stretch_of_time_has_no_beat():
    x = np.array([0.0, 1.0, 2.0, 50.0, 51.0, 100.0])
    lx, ly = decimated_line(x, x * 10, buckets=100)
    assert np.isnan(lx).sum() == 2  # gaps after 2 and after 51
    assert np.isnan(ly).tolist() == np.isnan(lx).tolist()
    assert lx[~np.isnan(lx)].tolist() == x.tolist()


@pytest.mark.parametrize("n", [120_000, 1_000_000])
def test_a_day_becomes_a_few_thousand_points(n: int):
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.uniform(400, 1200, n))
    lx, _ = decimated_line(x, rng.normal(800, 50, n))
    assert lx.size <= 4000
