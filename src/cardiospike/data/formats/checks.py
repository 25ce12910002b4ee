"""The checks every reader shares, written once with the helpers that locate a bad value by line and field.

A reader says where its values are with a ``Where``: value index -> (line or None, field). The first bad value
stops the reading with a :class:`RecordingFormatError` that names it.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Sequence
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


#: Characters of input text a message quotes, and names it lists: a message says what and where, it is no copy of
#: the input (a key of a megabyte, or 200,000 of them, would make an error of megabytes, and a service answers it).
EXCERPT = 40
LISTED = 10
# Text is cut before repr (a copy of its start, not of all of it); containers are shown by reprlib, which stops after
# their first few items and does not walk the rest.
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = EXCERPT
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxtuple = 4
_SHORT.maxlevel = 2


def excerpt(text: object, limit: int = EXCERPT, *, quoted: bool = True) -> str:
    """At most ``limit`` characters of input text for a message, cut with ``...``, non-printable characters escaped
    (as ``repr`` escapes them: a message is one line, whatever the input holds); quoted unless ``quoted=False``."""
    if isinstance(text, str):
        cut = text if len(text) <= limit else text[: max(limit - 3, 1)] + "..."
        shown = repr(cut)
        return shown if quoted else shown[1:-1]
    shown = _SHORT.repr(text)  # a value other than text (a JSON object or list), as its short repr
    return shown if len(shown) <= limit else shown[: max(limit - 3, 1)] + "..."


def listing(names: Sequence[str], shown: int = LISTED) -> str:
    """Names found in the input, for a message: the first ``shown`` as excerpts, then how many more there are."""
    head = ", ".join(excerpt(str(name).strip()) for name in names[:shown])
    return head + (f" and {len(names) - shown} more" if len(names) > shown else "")


def show(value: object) -> str:
    """A value found in the input, shortly (the ``value`` of an error)."""
    text = repr(value[:32]) if isinstance(value, str) else _SHORT.repr(value)
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
    missing = np.flatnonzero(np.isnan(values))  # the text of these alone is looked at again
    bad = first(~_nan_text(series.iloc[missing])) if missing.size else None
    bad = None if bad is None else int(missing[bad])
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
