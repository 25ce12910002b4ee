"""The checks every reader shares, written once with the helpers that locate a bad value by line and field.

A reader says where its values are with a ``Where``: value index -> (line or None, field). The first bad value
stops the reading with a :class:`RecordingFormatError` that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.recording import MAX_RR_MS, FloatArray

if TYPE_CHECKING:
    import pandas as pd

Where = Callable[[int], tuple[int | None, str]]


def first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def raise_at(
    source: str,
    problem: str,
    where: Where,
    i: int,
    value: str | None = None,
    hint: str | None = None,
    *,
    structural: bool = False,
) -> None:
    row, field = where(i)
    raise RecordingFormatError(source, problem, row=row, field=field, value=value, hint=hint, structural=structural)


def numeric(raw: np.ndarray, source: str, where: Where, decimal_comma: bool = False) -> FloatArray:
    """Numbers from text (or numbers already), refusing the first value that is none (empty, or not a number)."""
    if raw.dtype.kind in "fiu":
        return raw.astype(np.float64, copy=False)
    import pandas as pd  # here, not at import: the fast readers give numbers (it takes 0.3 s to import)

    series = pd.Series(raw, dtype=object)
    if decimal_comma:
        series = series.str.replace(",", ".", regex=False)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
    bad = first(np.isnan(values) & ~_nan_text(series))
    if bad is not None:
        text = "" if raw[bad] is None else str(raw[bad]).strip()
        if text:
            raise_at(source, "not a number", where, bad, show(text))
        raise_at(source, "empty value", where, bad)
    return values


def _nan_text(series: pd.Series) -> np.ndarray:
    """Where the text itself says NaN: a number, though not a finite one (refused later with that reason)."""
    return series.astype(str).str.strip().str.lower().isin(("nan", "-nan", "+nan")).to_numpy(dtype=bool)


def check_finite(values: FloatArray, source: str, where: Where) -> None:
    bad = first(~np.isfinite(values))
    if bad is not None:
        raise_at(source, "not a finite number", where, bad, str(values[bad]))


def check_rr(rr: FloatArray, source: str, where: Where, scale: float = 1.0) -> None:
    """RR (in a unit of ``scale`` ms) must be a number in ``[0, MAX_RR_MS]``; 0 and other values outside the
    physiological range are kept, to be flagged as measurement errors."""
    check_finite(rr, source, where)
    bad = first(rr < 0)
    if bad is not None:
        raise_at(source, "RR must not be negative", where, bad, f"{rr[bad]:g}")
    bad = first(rr * scale > MAX_RR_MS)
    if bad is not None:
        raise_at(
            source,
            f"RR above {MAX_RR_MS:,.0f} ms is no heart beat interval in milliseconds (another column or unit?)",
            where,
            bad,
            f"{rr[bad]:g}",
            hint="{rr_column} reads another column" if scale == 1.0 else "{unit=ms} reads them as milliseconds",
        )


def labels_of(raw: np.ndarray, source: str, where: Where) -> np.ndarray:
    values = numeric(raw, source, where)
    bad = first(~np.isin(values, (0.0, 1.0)))
    if bad is not None:
        raise_at(source, "label must be 0 or 1", where, bad, f"{values[bad]:g}")
    return values.astype(np.int8)


def check_count(n_recordings: int, limit: int | None, source: str) -> None:
    if limit is not None and n_recordings > limit:
        raise RecordingFormatError(source, f"{n_recordings} recordings, more than the limit of {limit} per input")
