"""Fewer points for a long line, drawn the same: the lowest and the highest beat of each time bucket; and numbers
as short as JSON writes them.

A 24-hour recording holds about 120,000 beats, and a chart about 1,000 pixels wide cannot show more than two values
per pixel column: the lowest and the highest RR in it. Keeping exactly those beats (min/max decimation, as
oscilloscopes and Plotly-Resampler do) draws the same picture from a few thousand points, and keeps every spike,
which an average or every n-th beat would smooth away. Only the line is decimated: anomalous beats and measurement
errors are drawn as markers of their own, every one of them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cardiospike.recording import FloatArray

#: Time buckets of a decimated line: about two per pixel column of a report chart, so that zooming in twice still
#: shows every pixel column's extremes.
BUCKETS = 2000
#: A line of at most this many beats is drawn whole (two beats per bucket is what decimation would keep anyway).
MAX_LINE_POINTS = 2 * BUCKETS


def min_max_indices(x: FloatArray, y: FloatArray, buckets: int = BUCKETS) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Indices of the lowest and highest ``y`` in each of ``buckets`` equal spans of ``x``, in order of ``x``.

    Parameters
    ----------
    x : ndarray
        Positions (beat times), increasing.
    y : ndarray
        Values (RR), one per position.
    buckets : int
        Number of equal spans of ``x`` from its first to its last value.

    Returns
    -------
    kept : ndarray of int
        Sorted indices of the beats kept: at most two per bucket (one where a bucket's extremes are one beat).
    bucket : ndarray of int
        The bucket of each kept beat, so that a caller can see buckets without beats between two kept ones.
    """
    n = x.size
    if n == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    span = float(x[-1] - x[0])
    if span > 0:
        which = np.minimum(((x - x[0]) * (buckets / span)).astype(np.intp), buckets - 1)
    else:
        which = np.zeros(n, dtype=np.intp)
    # Sorted by bucket, then by value (then by position): each bucket's first beat is its lowest, its last its highest.
    order = np.lexsort((np.arange(n), y, which))
    grouped = which[order]
    first = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    last = np.r_[first[1:] - 1, n - 1]
    kept = np.unique(np.concatenate([order[first], order[last]]))
    return kept, which[kept]


def decimated_line(x: FloatArray, y: FloatArray, buckets: int = BUCKETS) -> tuple[FloatArray, FloatArray]:
    """The min/max line of ``(x, y)``, broken (a NaN in both) across buckets that hold no beat.

    An empty bucket is a stretch of time without valid beats (a pause in the recording, or a run of measurement
    errors): bridging it with a straight line would draw beats that were never measured.
    """
    kept, bucket = min_max_indices(x, y, buckets)
    gap = np.flatnonzero(np.diff(bucket) > 1) + 1
    return np.insert(x[kept], gap, np.nan), np.insert(y[kept], gap, np.nan)


def json_numbers(values: FloatArray, decimals: int) -> list[float | int | None]:
    """Numbers rounded for the page, whole ones as integers and NaN (or infinity) as null: JSON as short as it gets."""
    rounded = np.round(np.asarray(values, dtype=np.float64), decimals)
    out = rounded.astype(object)
    # Integers only where int64 holds them exactly: a larger value stays a float, never wraps around.
    whole = np.isfinite(rounded) & (rounded == np.floor(rounded)) & (np.abs(rounded) < 2.0**53)
    out[whole] = rounded[whole].astype(np.int64)
    out[~np.isfinite(rounded)] = None
    return out.tolist()
