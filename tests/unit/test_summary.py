import numpy as np

from cardiospike.summary import find_episodes


def test_find_episodes_runs_times_and_peaks():
    flags = np.array([1, 1, 0, 0, 1, 1, 1, 0, 1], dtype=bool)
    proba = np.array([0.6, 0.7, 0.9, 0.1, 0.5, 0.8, 0.55, 0.95, 0.51])
    time = np.arange(9) * 1000.0
    eps = find_episodes(flags, time, proba)
    assert [(e.start, e.end, e.n_beats) for e in eps] == [(0, 1, 2), (4, 6, 3), (8, 8, 1)]
    # The 0.9 and 0.95 beats lie outside the episodes and must not count as their peaks.
    assert [e.max_proba for e in eps] == [0.7, 0.8, 0.51]
    assert (eps[1].start_ms, eps[1].end_ms) == (4000.0, 6000.0)


def test_no_episodes():
    assert find_episodes(np.zeros(5, bool), np.arange(5.0), np.zeros(5)) == []
