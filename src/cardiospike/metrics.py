"""How well flags match labels: the competition's F1, with precision and recall. numpy only.

The competition scores a set of beats by ``F1 = tp / (tp + (fp + fn) / 2)``; a set with nothing to find and nothing
flagged scores 1 (a perfect answer), not 0. Training, the choice of post-processing and evaluation all score with
the functions here, so they agree to the last bit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def flag_counts(y: ArrayLike, flags: ArrayLike) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of 0/1 ``flags`` against 0/1 labels ``y``."""
    y, flags = np.asarray(y).astype(bool), np.asarray(flags).astype(bool)
    return int(np.count_nonzero(flags & y)), int(np.count_nonzero(flags & ~y)), int(np.count_nonzero(~flags & y))


def precision_recall_f1(
    tp: ArrayLike, fp: ArrayLike, fn: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Precision, recall and F1 from counts (scalars, or arrays of counts such as one per recording).

    Precision and recall are 0 where nothing was flagged or nothing was there to find; F1 is 1 where both hold.
    """
    tp, fp, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn))
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        f1 = np.where(tp + fp + fn > 0, tp / (tp + (fp + fn) / 2), 1.0)
    return precision, recall, f1


def f1_score(y: ArrayLike, flags: ArrayLike) -> float:
    """The competition F1 of ``flags`` against labels ``y`` (see the module's docstring)."""
    return float(precision_recall_f1(*flag_counts(y, flags))[2])


def episode_counts(y: ArrayLike, flags: ArrayLike, ids: ArrayLike) -> tuple[int, int, int]:
    """Episodes found, episodes missed, and false episodes of ``flags`` against labels ``y``.

    An episode is a run of consecutive 1s within one recording (``ids``, rows grouped by recording). A labelled
    episode is found where at least one of its beats is flagged, missed otherwise; a run of flags that touches no
    labelled beat is a false episode.
    """
    y, flags, ids = np.asarray(y).astype(bool), np.asarray(flags).astype(bool), np.asarray(ids)
    new_recording = np.r_[True, ids[1:] != ids[:-1]] if ids.size else np.zeros(0, bool)

    def run_numbers(on: NDArray[np.bool_]) -> tuple[NDArray[np.int64], int]:
        """Each beat's run (numbered from 1; 0 where off), and the number of runs."""
        starts = on & (new_recording | ~np.r_[False, on[:-1]])
        number = np.cumsum(starts) * on
        return number, int(starts.sum())

    labelled, n_labelled = run_numbers(y)
    flagged, n_flagged = run_numbers(flags)
    both = y & flags
    found = np.unique(labelled[both]).size
    true_runs = np.unique(flagged[both]).size
    return found, n_labelled - found, n_flagged - true_runs
