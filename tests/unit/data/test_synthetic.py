import numpy as np

from cardiospike.data.synthetic import simulate_recording, simulate_recordings
from cardiospike.recording import measurement_errors


def test_same_seed_same_recording():
    a, b = simulate_recording(500, seed=3), simulate_recording(500, seed=3)
    np.testing.assert_array_equal(a.rr, b.rr)
    assert not np.array_equal(a.rr, simulate_recording(500, seed=4).rr)


def test_episodes_look_like_labelled_ones():
    rec = simulate_recording(5000, seed=1, episodes_per_1000=8)
    assert rec.labels is not None
    starts = np.flatnonzero(np.diff(np.concatenate([[0], rec.labels])) == 1)
    assert 20 <= starts.size <= 60
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], rec.labels, [0]]))))[::2]
    assert set(runs.tolist()) == {8}
    # The spike: 4th beat of an episode is above the median, the 5th below.
    med = np.median(rec.rr)
    assert np.mean(rec.rr[starts + 3] > med) > 0.9
    assert np.mean(rec.rr[starts + 4] < med) > 0.9
    # Measurement errors never overlap episodes.
    assert not np.any(measurement_errors(rec.rr) & (rec.labels == 1))


def test_simulate_recordings_distinct_ids():
    recs = simulate_recordings(3, n_beats=50)
    assert len({r.id for r in recs}) == 3
    assert all(len(r) == 50 for r in recs)
