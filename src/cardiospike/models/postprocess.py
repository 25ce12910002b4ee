"""Post-processing that respects episode structure: smoothing, threshold, gap filling, minimum run length.

Labelled episodes are runs of 6 to 41 consecutive beats, so isolated flags are mostly false alarms and one-beat
holes inside a run are mostly misses. Each step works within recordings (``lengths`` gives their sizes, in order)
and is vectorised over all of them at once. The settings are chosen on inner out-of-fold predictions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import product
from typing import Any

import numpy as np

from cardiospike.arrays import flag_runs
from cardiospike.metrics import f1_score
from cardiospike.recording import FloatArray

#: Range of decision thresholds training chooses from; a model's threshold outside it is a damaged manifest.
THRESHOLDS = (0.01, 0.99)
#: Largest smoothing half-width, gap or minimum run a model may have (episodes are at most about 40 beats long).
MAX_SETTING = 50


@dataclass(frozen=True)
class PostProcess:
    """Turns per-beat probabilities into anomaly flags.

    Attributes
    ----------
    threshold : float
        Flag beats whose (smoothed) probability reaches it.
    smooth : int
        Half-width of the centred moving average of probabilities (0: none).
    max_gap : int
        Fill holes of at most this many beats between two flagged runs of one recording.
    min_run : int
        Drop flagged runs shorter than this.
    """

    threshold: float = 0.5
    smooth: int = 0
    max_gap: int = 0
    min_run: int = 1

    def check(self) -> None:
        """Raise ValueError where a setting lies outside what training can choose (a damaged manifest)."""
        low, high = THRESHOLDS
        if not low <= self.threshold <= high:
            raise ValueError(f"threshold {self.threshold} outside [{low}, {high}]")
        settings = (("smooth", self.smooth, 0), ("max_gap", self.max_gap, 0), ("min_run", self.min_run, 1))
        for name, value, least in settings:
            if not isinstance(value, int) or not least <= value <= MAX_SETTING:
                raise ValueError(f"{name} {value!r} outside [{least}, {MAX_SETTING}]")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def proba(self, proba: FloatArray, lengths: np.ndarray) -> FloatArray:
        """Smoothed probabilities."""
        return smooth_within(proba, lengths, self.smooth)

    def flags(self, smoothed: FloatArray, lengths: np.ndarray) -> np.ndarray:
        """Anomaly flags from smoothed probabilities."""
        flags = smoothed >= self.threshold
        flags = fill_gaps(flags, lengths, self.max_gap)
        return drop_short_runs(flags, lengths, self.min_run)


def _segment_bounds(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every beat, the index of its recording's first beat and one past its last."""
    ends = np.cumsum(lengths)
    starts = ends - lengths
    return np.repeat(starts, lengths), np.repeat(ends, lengths)


def smooth_within(values: FloatArray, lengths: np.ndarray, half: int) -> FloatArray:
    """Centred moving average of ``2 * half + 1`` values that never crosses a recording boundary."""
    if half <= 0:
        return values
    first, stop = _segment_bounds(lengths)
    i = np.arange(values.size)
    lo, hi = np.maximum(i - half, first), np.minimum(i + half + 1, stop)
    prefix = np.concatenate([[0.0], np.cumsum(values)])
    return (prefix[hi] - prefix[lo]) / (hi - lo)


def _paint(size: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    marks = np.zeros(size + 1, dtype=np.int64)
    np.add.at(marks, starts, 1)
    np.add.at(marks, ends, -1)
    return np.cumsum(marks[:-1]) > 0


def drop_short_runs(flags: np.ndarray, lengths: np.ndarray, min_run: int) -> np.ndarray:
    """Unflag runs shorter than ``min_run`` beats."""
    if min_run <= 1:
        return flags
    starts, ends = flag_runs(flags, lengths)
    keep = ends - starts >= min_run
    return _paint(flags.size, starts[keep], ends[keep])


def fill_gaps(flags: np.ndarray, lengths: np.ndarray, max_gap: int) -> np.ndarray:
    """Flag holes of at most ``max_gap`` beats that have flagged beats on both sides in the same recording."""
    if max_gap <= 0:
        return flags
    starts, ends = flag_runs(~flags, lengths)
    first, stop = _segment_bounds(lengths)
    # Runs never cross a boundary, so a hole's recording is that of its first beat.
    fill = (starts > first[starts]) & (ends < stop[starts]) & (ends - starts <= max_gap)
    return flags | _paint(flags.size, starts[fill], ends[fill])


def choose_postprocess(
    y: np.ndarray,
    proba: FloatArray,
    lengths: np.ndarray,
    smooths: tuple[int, ...] = (0, 1, 2, 3),
    max_gaps: tuple[int, ...] = (0, 1, 2),
    min_runs: tuple[int, ...] = (1, 2, 3, 4, 5),
    thresholds: FloatArray | None = None,
) -> tuple[PostProcess, float]:
    """The settings that maximise pooled per-beat F1 of ``proba`` against ``y``, and that F1.

    Ties keep the simplest settings (listed first), so post-processing is used only where it wins.
    """
    y = np.asarray(y).astype(bool)
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2) if thresholds is None else thresholds
    best, best_f1 = PostProcess(), -1.0
    for smooth in smooths:
        smoothed = smooth_within(proba, lengths, smooth)
        for threshold, max_gap, min_run in product(grid, max_gaps, min_runs):
            candidate = PostProcess(float(threshold), smooth, max_gap, min_run)
            f1 = f1_score(y, candidate.flags(smoothed, lengths))
            if f1 > best_f1 + 1e-12:
                best, best_f1 = candidate, f1
    return best, best_f1


def run_lengths(ids: np.ndarray) -> np.ndarray:
    """Sizes of the consecutive blocks of equal ``ids`` (the recordings of stacked rows), in order."""
    if ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    return np.diff(np.concatenate([[0], change, [ids.size]]))
