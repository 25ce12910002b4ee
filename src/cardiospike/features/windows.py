"""Building blocks: per-recording normalisation, centred windows and rolling HRV statistics.

Every function works on whole arrays (no per-beat Python loop) and gives a value for every beat: windows that
reach past either end of a recording are padded with NaN, which the statistics ignore.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cardiospike.recording import FloatArray


def normalise_rr(rr: FloatArray, valid: np.ndarray) -> tuple[FloatArray, float]:
    """Divide RR by the recording's median valid RR; invalid beats become NaN.

    Returns the normalised RR and the median (NaN when no beat is valid).
    """
    median = float(np.median(rr[valid])) if valid.any() else np.nan
    return np.where(valid, rr / median, np.nan), median


def centred_windows(values: FloatArray, half: int) -> FloatArray:
    """Windows of ``2 * half + 1`` values centred on each beat, NaN-padded at the edges: shape (n, 2*half+1)."""
    padded = np.pad(values, half, constant_values=np.nan)
    return sliding_window_view(padded, 2 * half + 1)


def rolling_hrv(r: FloatArray, half: int, median_rr: float) -> dict[str, FloatArray]:
    """Local HRV statistics over a centred window of normalised RR ``r`` (NaN = invalid beat).

    Returns RMSSD, SDNN (both relative to the recording median), pNN50 and the mean heart rate (beats/min).
    """
    win = centred_windows(r, half)
    steps = np.diff(win, axis=1)
    with warnings.catch_warnings():
        # Windows made only of invalid beats give NaN, which LightGBM treats as missing: that is intended.
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(win, axis=1)
        return {
            "rmssd": np.sqrt(np.nanmean(steps**2, axis=1)),
            "sdnn": np.nanstd(win, axis=1),
            "pnn50": np.nanmean(np.where(np.isnan(steps), np.nan, np.abs(steps) * median_rr > 50), axis=1),
            "hr": 60_000.0 / (mean * median_rr),
        }
