"""Small numpy helpers several layers share: the runs of a boolean array, and the logistic function.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def flag_runs(flags: ArrayLike, lengths: ArrayLike | None = None) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Where each run of consecutive ``True`` in ``flags`` starts, and where it stops (one past its last index).

    With ``lengths``, the sizes of consecutive segments of ``flags`` (recordings laid end to end, adding up to its
    size), a run also stops where a segment ends: no run crosses from one recording into the next.
    """
    on = np.asarray(flags, dtype=bool)
    # Whether the beat before (after) each beat is flagged and in the same run.
    before, after = np.zeros(on.size, dtype=bool), np.zeros(on.size, dtype=bool)
    before[1:], after[:-1] = on[:-1], on[1:]
    if lengths is not None:
        cuts = np.cumsum(np.asarray(lengths, dtype=np.int64))[:-1]
        cuts = cuts[(cuts > 0) & (cuts < on.size)]  # empty segments at either end cut nothing
        before[cuts], after[cuts - 1] = False, False
    return np.flatnonzero(on & ~before), np.flatnonzero(on & ~after) + 1


def sigmoid(logits: ArrayLike) -> NDArray[np.float64]:
    """The logistic function ``1 / (1 + exp(-z))`` in float64, without overflow (and its warning) for large ``-z``."""
    z = np.asarray(logits, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))
