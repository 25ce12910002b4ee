"""The long and the pieces views of held-out recordings: every beat kept with its label, in the promised sizes."""

from __future__ import annotations

import numpy as np
import pytest

from cardiospike.recording import Recording
from cardiospike.training.views import PIECE_BEATS, cut_into_pieces, laid_end_to_end


def test_laid_end_to_end_repeats_the_recordings_in_new_orders_until_long_enough(recordings: list[Recording]):
    recs = recordings[:3]
    long = laid_end_to_end(recs, np.random.default_rng(0), min_beats=5000)
    per_round = sum(len(r) for r in recs)
    assert len(long) == -(-5000 // per_round) * per_round  # whole rounds, the last one reaching the length
    assert long.labels is not None
    assert long.labels.sum() == sum(int(r.labels.sum()) for r in recs if r.labels is not None) * len(long) // per_round
    starts = {float(r.rr[0]) for r in recs}
    assert long.rr[0] in starts
    np.testing.assert_array_equal(np.diff(long.time) >= 0, True)  # timed as one recording
    orders = [tuple(long.rr[i * per_round : i * per_round + 1]) for i in range(len(long) // per_round)]
    assert len(set(orders)) > 1  # shuffled afresh each round (3 recordings: 6 orders)


def test_cut_into_pieces_keeps_every_beat_in_pieces_of_the_promised_sizes(recordings: list[Recording]):
    short = Recording.from_rr(np.full(40, 800.0), id="short", labels=np.zeros(40, np.int8))
    recs = [*recordings[:3], short]
    pieces = cut_into_pieces(recs, np.random.default_rng(1))
    np.testing.assert_array_equal(np.concatenate([p.rr for p in pieces]), np.concatenate([r.rr for r in recs]))
    labels = [p.labels for p in pieces if p.labels is not None]
    np.testing.assert_array_equal(
        np.concatenate(labels), np.concatenate([r.labels for r in recs if r.labels is not None])
    )
    low, high = PIECE_BEATS
    assert all(low <= len(p) <= high for p in pieces if not p.id.startswith("short"))
    assert [p.id for p in pieces if p.id.startswith("short")] == ["short#0"]  # shorter than a piece: whole
    assert len({p.id for p in pieces}) == len(pieces)


def test_pieces_sizes_must_allow_a_cut():
    with pytest.raises(ValueError, match="half the most"):
        cut_into_pieces([], np.random.default_rng(0), (100, 150))
