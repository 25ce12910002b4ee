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


def _runs(
    on: NDArray[np.bool_], new_recording: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Each beat's run of ``on`` beats (numbered from 1; 0 where off; a run never crosses a recording), and each
    run's first and last beat (run ``k`` at index ``k - 1``)."""
    starts = on & (new_recording | ~np.r_[False, on[:-1]])
    ends = on & (np.r_[new_recording[1:], True] | ~np.r_[on[1:], False])
    return np.cumsum(starts) * on, np.flatnonzero(starts), np.flatnonzero(ends)


def _new_recording(ids: NDArray) -> NDArray[np.bool_]:
    return np.r_[True, ids[1:] != ids[:-1]] if ids.size else np.zeros(0, bool)


def episode_counts(y: ArrayLike, flags: ArrayLike, ids: ArrayLike) -> tuple[int, int, int]:
    """Episodes found, episodes missed, and false episodes of ``flags`` against labels ``y``.

    An episode is a run of consecutive 1s within one recording (``ids``, rows grouped by recording). A labelled
    episode is found where at least one of its beats is flagged, missed otherwise; a run of flags that touches no
    labelled beat is a false episode.
    """
    y, flags, ids = np.asarray(y).astype(bool), np.asarray(flags).astype(bool), np.asarray(ids)
    new_recording = _new_recording(ids)
    labelled, label_first, _ = _runs(y, new_recording)
    flagged, flag_first, _ = _runs(flags, new_recording)
    both = y & flags
    found = np.unique(labelled[both]).size
    true_runs = np.unique(flagged[both]).size
    return found, label_first.size - found, flag_first.size - true_runs


def boundary_errors(y: ArrayLike, flags: ArrayLike, ids: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """How many beats each found episode's flagged start and end lie from the labelled ones.

    For each labelled episode that is found (see :func:`episode_counts`), the flagged runs that touch it span from
    the first beat of the first to the last beat of the last; returned are the signed differences of that span's
    start and end to the episode's, in beats (negative: flagged early), one per found episode, in order.
    """
    y, flags, ids = np.asarray(y).astype(bool), np.asarray(flags).astype(bool), np.asarray(ids)
    new_recording = _new_recording(ids)
    labelled, label_first, label_last = _runs(y, new_recording)
    flagged, flag_first, flag_last = _runs(flags, new_recording)
    both = y & flags
    episode, run = labelled[both] - 1, flagged[both] - 1
    # The span of the flagged runs touching each labelled episode: the first start and the last end among them.
    span_first = np.full(label_first.size, y.size, np.int64)
    span_last = np.full(label_first.size, -1, np.int64)
    np.minimum.at(span_first, episode, flag_first[run])
    np.maximum.at(span_last, episode, flag_last[run])
    found = np.unique(episode)
    return span_first[found] - label_first[found], span_last[found] - label_last[found]
