"""Building blocks of the beat features: normalisation, shifted copies, centred window sums, distances.

Every function works on whole arrays (no per-beat Python loop) and gives a value for every beat: windows that
reach past either end of a recording see NaN (missing), which the sums skip.
"""

from __future__ import annotations

import numpy as np

from cardiospike.recording import FloatArray


def normalise_rr(rr: FloatArray, valid: np.ndarray) -> tuple[FloatArray, float]:
    """Divide RR by the recording's median valid RR; invalid beats become NaN.

    Returns the normalised RR and the median (NaN when no beat is valid).
    """
    median = float(np.median(rr[valid])) if valid.any() else np.nan
    return np.where(valid, rr / median, np.nan), median


def shifted(values: FloatArray, offsets: range, fill: float = np.nan) -> FloatArray:
    """Columns ``values[i + o]`` for each offset ``o`` (``fill`` past the ends): shape (n, len(offsets))."""
    pad = max(abs(offsets.start), abs(offsets.stop - offsets.step), 0)
    n = values.size
    padded = np.full(n + 2 * pad, fill)
    padded[pad : pad + n] = values
    return np.column_stack([padded[pad + o : pad + o + n] for o in offsets]) if len(offsets) else np.empty((n, 0))


def step_before(values: FloatArray) -> FloatArray:
    """``values[i] - values[i - 1]`` (NaN for the first beat)."""
    out = np.full(values.size, np.nan)
    out[1:] = np.diff(values)
    return out


class WindowSums:
    """NaN-skipping count, sum and sum of squares over centred windows, from one prefix sum each.

    ``sums(h)`` covers beats ``i - h .. i + h``; O(n) per width however wide the window.
    """

    def __init__(self, values: FloatArray, max_half: int) -> None:
        ok = ~np.isnan(values)
        z = np.where(ok, values, 0.0)
        self.n, self.max_half = values.size, max_half
        self._prefix = [self._padded(np.cumsum(a, dtype=np.float64)) for a in (ok.astype(np.float64), z, z * z)]

    def _padded(self, cumsum: FloatArray) -> FloatArray:
        last = cumsum[-1] if cumsum.size else 0.0
        return np.concatenate([np.zeros(self.max_half + 1), cumsum, np.full(self.max_half, last)])

    def sums(self, half: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(count, sum, sum of squares) of the non-missing values in each centred window of ``2 * half + 1``."""
        k = self.max_half
        hi = slice(k + 1 + half, k + 1 + half + self.n)
        lo = slice(k - half, k - half + self.n)
        count, total, squares = (c[hi] - c[lo] for c in self._prefix)
        return count, total, squares


def distance_to_flags(flag: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Beats since the last flagged beat and until the next one (0 on a flagged beat; NaN where there is none)."""
    n = flag.size
    idx = np.arange(n)
    last = np.maximum.accumulate(np.where(flag, idx, -1))
    following = np.minimum.accumulate(np.where(flag, idx, n)[::-1])[::-1]
    since = np.where(last >= 0, idx - last, np.nan)
    until = np.where(following < n, following - idx, np.nan)
    return since, until


def window_max(values: FloatArray, half: int, fill: float) -> FloatArray:
    """Maximum over each centred window of ``2 * half + 1`` values (``fill`` past the ends)."""
    return np.max(shifted(values, range(-half, half + 1), fill), axis=1)
