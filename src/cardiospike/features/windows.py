"""Building blocks of the beat features: local outliers, steps, centred window sums, distances to flagged beats.

Every function works on whole arrays (no per-beat Python loop) and gives a value for every beat: windows that
reach past either end of a recording see NaN (missing), which the sums skip.
"""

from __future__ import annotations

import bottleneck as bn
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cardiospike.recording import FloatArray

#: Half-width of the neighbourhood whose median :func:`local_outliers` compares each beat with.
LOCAL_HALF = 8
_MEDIAN_ROWS = 8_192


def local_outliers(x: FloatArray, tolerance: float, half: int = LOCAL_HALF) -> np.ndarray:
    """Beats further than ``tolerance`` (relative) from the median of the values around them (``x``: NaN = missing).

    A missed or an extra beat detection makes one RR about twice or half its neighbours: such a beat is no
    physiological interval and its steps dwarf every spike around it. In the training data no labelled beat lies
    more than 13% from the median of the 17 beats around it, and none of the 2,346 beats beyond 30% is labelled.
    """
    n = x.size
    padded = np.full(n + 2 * half, np.nan)
    padded[half : half + n] = x
    windows = sliding_window_view(padded, 2 * half + 1)
    median = np.empty(n)
    for start in range(0, n, _MEDIAN_ROWS):  # sorting copies the windows: a bounded number at a time
        median[start : start + _MEDIAN_ROWS] = _nan_median_of_rows(windows[start : start + _MEDIAN_ROWS])
    with np.errstate(invalid="ignore"):
        return np.abs(x / median - 1.0) > tolerance


def _nan_median_of_rows(rows: FloatArray) -> FloatArray:
    """``np.nanmedian(rows, axis=1)`` (NaN for a row without a value), from one sort: NaN sorts last, so a row's
    ``k`` values come first and its median is the mean of the middle one or two of them (several times faster)."""
    ordered = np.sort(rows, axis=1)
    k = rows.shape[1] - np.isnan(ordered).sum(axis=1)
    at = np.arange(rows.shape[0])
    return (ordered[at, np.maximum(k - 1, 0) // 2] + ordered[at, k // 2]) / 2


def centred_median(x: FloatArray, half: int) -> FloatArray:
    """The median of the non-missing values of ``x[i - half : i + half + 1]`` for every ``i`` (NaN where there are
    none), windows cut at the array's ends.

    Bottleneck's moving median (a double heap: O(n log w), where sorting every window would be O(n w log w)); a
    median picks one value or the mean of two, so a beat's median is the same to the bit whatever lies beyond its
    window.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    gap = np.full(half, np.nan)
    # Bottleneck's window ends at its index: the window centred on beat i (at i + half in the padded array) ends at
    # i + 2 * half. The padding also makes the array at least as long as the window, as bottleneck requires.
    return np.asarray(bn.move_median(np.concatenate([gap, x, gap]), 2 * half + 1, min_count=1)[2 * half :])


def step_before(values: FloatArray) -> FloatArray:
    """``values[i] - values[i - 1]`` (NaN for the first beat)."""
    out = np.full(values.size, np.nan)
    out[1:] = np.diff(values)
    return out


class WindowSums:
    """NaN-skipping count, sum and sum of squares over centred windows, the same to the bit wherever the array starts.

    ``totals(h)`` and ``sums(h)`` cover beats ``i - h .. i + h``. Counts come from a prefix sum (whole numbers:
    exact). Sums (and sums of squares, only where asked for) are added up beat by beat outwards from the centre (two
    shifted arrays per step, every width up to the widest on the way): a prefix sum would be O(n) too, but its
    rounding depends on where the array starts, so a beat's features, and through a network its probability, would
    differ in the last bits between a recording and a piece of it (a live stream's history).
    """

    def __init__(self, values: FloatArray, max_half: int) -> None:
        ok = ~np.isnan(values)
        self.n, self.max_half = values.size, max_half
        counts = np.cumsum(ok, dtype=np.float64)
        last = counts[-1] if self.n else 0.0
        self._counts = np.concatenate([np.zeros(max_half + 1), counts, np.full(max_half, last)])
        z = np.concatenate([np.zeros(max_half), np.where(ok, values, 0.0), np.zeros(max_half)])
        self._total = _Widening(z, max_half, self.n)
        self._squares: _Widening | None = None

    def totals(self, half: int) -> tuple[FloatArray, FloatArray]:
        """(count, sum) of the non-missing values in each centred window of ``2 * half + 1``; widths asked for in
        increasing order (each widens the last)."""
        k, n = self.max_half, self.n
        count = self._counts[k + 1 + half : k + 1 + half + n] - self._counts[k - half : k - half + n]
        return count, self._total.widen(half)

    def sums(self, half: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """:meth:`totals` and the sum of squares of the same windows."""
        if self._squares is None:
            self._squares = _Widening(self._total.values**2, self.max_half, self.n)
        return (*self.totals(half), self._squares.widen(half))


class _Widening:
    """Sums of centred windows of ``values`` (padded by ``max_half`` zeros at each end), widened step by step."""

    def __init__(self, values: FloatArray, max_half: int, n: int) -> None:
        self.values, self.max_half, self.n = values, max_half, n
        self.half, self.sum = 0, values[max_half : max_half + n].copy()

    def widen(self, half: int) -> FloatArray:
        if not self.half <= half <= self.max_half:
            raise ValueError(f"window half-widths must grow, up to {self.max_half}: {half} after {self.half}")
        k, n, v = self.max_half, self.n, self.values
        for h in range(self.half + 1, half + 1):
            self.sum = self.sum + v[k - h : k - h + n] + v[k + h : k + h + n]
        self.half = half
        return self.sum


def distance_to_flags(
    flag: np.ndarray, first: np.ndarray | None = None, stop: np.ndarray | None = None, reach: int | None = None
) -> tuple[FloatArray, FloatArray]:
    """Beats since the last flagged beat and until the next one (0 on a flagged beat; NaN where there is none).

    With recordings laid end to end, ``first`` and ``stop`` give each beat's recording (its first index and one
    past its last): flags in other recordings are not seen. With ``reach``, flags further than that are not seen.
    """
    n = flag.size
    idx = np.arange(n)
    first = np.zeros(n, dtype=np.int64) if first is None else first
    stop = np.full(n, n, dtype=np.int64) if stop is None else stop
    last = np.maximum.accumulate(np.where(flag, idx, -1))
    following = np.minimum.accumulate(np.where(flag, idx, n)[::-1])[::-1]
    since = np.where(last >= first, idx - last, np.nan)
    until = np.where(following < stop, following - idx, np.nan)
    if reach is not None:
        since[since > reach] = np.nan
        until[until > reach] = np.nan
    return since, until
