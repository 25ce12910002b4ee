"""Windows of whole-recording networks: they tile every recording, and each kept beat has its context."""

from __future__ import annotations

import numpy as np
import pytest

from cardiospike.models.nn.windows import Windowing, cut


@pytest.mark.parametrize("n", [1, 10, 16, 17, 40, 41, 1000])
def test_kept_parts_tile_the_recording_with_context_on_both_sides(n: int):
    windowing = Windowing(16, 4)
    start, first, stop = windowing.spans(n)
    np.testing.assert_array_equal(
        np.concatenate([np.arange(a, b) for a, b in zip(first, stop, strict=True)]), np.arange(n)
    )
    for s, f, t in zip(start, first, stop, strict=True):
        assert s <= f < t <= s + windowing.length
        assert f - s >= windowing.context or s == 0  # context before, except at the recording's start
        assert s + windowing.length - t >= windowing.context or s + windowing.length >= n  # and after


@pytest.mark.parametrize("n", [17, 20, 23, 41, 1000])
def test_no_two_windows_of_a_recording_start_at_the_same_beat(n: int):
    start, _, _ = Windowing(16, 4).spans(n)
    assert (np.diff(start) > 0).all()


@pytest.mark.parametrize("size", [1, 3, 100])
def test_cut_and_gather_return_every_beat_in_order(size: int):
    inputs = [np.arange(n, dtype=np.float32)[None] * (i + 1) for i, n in enumerate((5, 40, 16, 1))]
    windows = cut([x.shape[1] for x in inputs], Windowing(16, 4))
    x = np.concatenate(list(windows.batches(inputs, np.nan, size)))
    assert x.shape[1:] == (1, 16)
    assert np.isnan(x[0, 0, 5:]).all()  # a short recording is padded as training pads its crops
    np.testing.assert_array_equal(windows.gather(x[:, 0, :]), np.concatenate([x[0] for x in inputs]))
    rows = np.concatenate(list(windows.batches([a.T for a in inputs], np.nan, size, rows=True)))
    np.testing.assert_array_equal(rows, x)  # the same windows from (n, channels) arrays


def test_context_must_leave_something():
    with pytest.raises(ValueError, match="leaves nothing"):
        Windowing(16, 8)


@pytest.mark.parametrize(("offset", "m"), [(5, 60), (32, 70), (37, 17), (100, 100)])
def test_a_piece_is_cut_as_the_whole_recording(offset: int, m: int):
    """Beats of a piece (a live stream's history) whose window lies inside it get the window the whole gives them."""
    windowing = Windowing(16, 4)
    whole = {int(f): (int(s), int(t)) for s, f, t in zip(*windowing.spans(400), strict=True)}
    start, first, stop = windowing.spans(m, offset)
    np.testing.assert_array_equal(
        np.concatenate([np.arange(a, b) for a, b in zip(first, stop, strict=True)]), np.arange(m)
    )
    inside = 0
    for s, f, t in zip(start, first, stop, strict=True):
        if f - windowing.context >= 0:  # its context before lies in the piece
            whole_start, whole_stop = whole[int(f) + offset]
            assert (s + offset, min(t + offset, offset + m)) == (whole_start, min(whole_stop, offset + m))
            inside += 1
    assert inside >= max(1, (m - 2 * windowing.keep) // windowing.keep)  # at least one window checked


def test_which_window_scores_a_beat_does_not_depend_on_the_recordings_end():
    windowing = Windowing(16, 4)
    for n in (17, 30, 41, 100):
        start, first, _ = windowing.spans(n)
        np.testing.assert_array_equal(first, np.arange(0, n, windowing.keep))
        np.testing.assert_array_equal(start, np.maximum(first - windowing.context, 0))
