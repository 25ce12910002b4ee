"""Other views of held-out recordings: the same beats laid end to end as one long recording, and cut into pieces.

Users bring day-long Holters and short strips, while the labelled recordings are 32 to 3,661 beats long. A model
whose decisions depend only on the beats around each beat flags the same beats alike in every view; one that reads
a recording's length, a beat's position or the whole recording's median does not. Nested cross-validation scores
each outer fold's recordings in both views with the model that never saw them, beside the recordings as labelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from cardiospike.recording import Recording

#: The long view holds at least this many beats (the fold's recordings repeated, each time in a new order).
LONG_BEATS = 100_000
#: The pieces view cuts every recording into pieces of this many beats (a recording shorter than the least is one).
PIECE_BEATS = (64, 256)


def laid_end_to_end(
    recordings: Sequence[Recording], rng: np.random.Generator, min_beats: int = LONG_BEATS, id: str = "long"
) -> Recording:
    """One recording of the ``recordings`` one after another in a shuffled order, the whole repeated (in a new order
    each time) until it holds at least ``min_beats`` beats; labels follow their beats, times run on from RR."""
    if not recordings:
        raise ValueError("no recordings to lay end to end")
    order: list[int] = []
    beats = 0
    while beats < min_beats:
        round_ = rng.permutation(len(recordings)).tolist()
        order += round_
        beats += sum(len(recordings[i]) for i in round_)
    rr = np.concatenate([recordings[i].rr for i in order])
    labels = [recordings[i].labels for i in order]
    joined = np.concatenate([y for y in labels if y is not None]) if all(y is not None for y in labels) else None
    return Recording.from_rr(rr, id=id, labels=joined)


def cut_into_pieces(
    recordings: Sequence[Recording], rng: np.random.Generator, sizes: tuple[int, int] = PIECE_BEATS
) -> list[Recording]:
    """Every recording cut into consecutive pieces of ``sizes[0]`` to ``sizes[1]`` beats (drawn uniformly, the last
    piece whatever remains, never fewer than ``sizes[0]``), in order; piece ``k`` of recording ``a`` is ``a#k``."""
    low, high = sizes
    if not 0 < low <= high // 2:
        raise ValueError(f"pieces of {low} to {high} beats: need 0 < least <= half the most")
    pieces = []
    for rec in recordings:
        bounds = [0]
        while len(rec) - bounds[-1] > high:
            # At most what leaves ``low`` beats, so the last piece is never shorter than the others may be.
            bounds.append(bounds[-1] + int(rng.integers(low, min(high, len(rec) - bounds[-1] - low) + 1)))
        bounds.append(len(rec))
        for k, (a, b) in enumerate(pairwise(bounds)):
            labels = None if rec.labels is None else rec.labels[a:b]
            pieces.append(Recording(id=f"{rec.id}#{k}", rr=rec.rr[a:b], time=rec.time[a:b], labels=labels))
    return pieces
