"""The rules of reading that every surface shares, beyond the file readers: one recording from what a Python
caller has at hand (a Recording, RR values, a DataFrame with an RR column), RR in a unit, and the warning about
recordings that are mostly measurement errors."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cardiospike.data.errors import RecordingFormatError, render_hint
from cardiospike.data.formats.columns import (
    find_roles,
    header_unit,
    misread_hint,
    rr_unit,
    time_scale,
    unused_id_columns,
    unused_id_warning,
)
from cardiospike.recording import (
    ERROR_RR_MAX_MS,
    ERROR_RR_MIN_MS,
    NAMED_MOSTLY_ERRORS,
    FloatArray,
    Recording,
    RRUnit,
    Unit,
    mostly_errors,
)

if TYPE_CHECKING:
    import pandas as pd


def as_recording(
    obj: Any,
    *,
    unit: Unit = "auto",
    rr_column: str | None = None,
    time_column: str | None = None,
    id_column: str | None = None,
    id: str | int | None = None,
) -> Recording:
    """A :class:`~cardiospike.recording.Recording` from a recording, RR values or a table of beats.

    Parameters
    ----------
    obj : Recording, array-like or pandas.DataFrame
        A recording (returned as it is); a one-dimensional array, list or pandas Series of RR intervals; or a
        DataFrame with an RR column (named as the file readers know it: ``x``, ``rr``, ``rri``, ``nni``,
        ``RR interval (ms)`` ...), and optionally a time column (numbers, or datetimes), labels (``y``) and an id
        column holding a single recording id.
    unit : {"auto", "ms", "s"}
        Unit of the RR values: ``auto`` takes the unit a column name gives (``rr_s``, ``RR (ms)``), else seconds
        where the median RR is below 10. The recording's ``unit`` attribute says which was taken.
    rr_column, time_column, id_column : str, optional
        The DataFrame's RR, time and recording id columns, where their names do not say.
    id : str or int, optional
        The recording's id (default: the DataFrame's id column, the Series' name, or ``"recording"``).

    Returns
    -------
    Recording
        RR in milliseconds. As for :meth:`Recording.from_rr`, values that are not positive finite numbers are kept
        and scored as measurement errors. Where most of its beats are measurement errors, a :class:`UserWarning`
        says what to try (another unit or column), as the command line and the service do.

    Raises
    ------
    ValueError
        Values that are not numbers, not one-dimensional or empty; a DataFrame without an RR column or of several
        recordings (or with a column that looks like ids of several, not read as ids).
    """
    if isinstance(obj, Recording):
        return obj
    import pandas as pd  # here, not at import: reading and scoring recordings need no pandas

    if isinstance(obj, pd.DataFrame):
        recording = _from_frame(obj, unit, rr_column, time_column, id_column, id)
    else:
        name = str(obj.name) if isinstance(obj, pd.Series) and obj.name is not None else None
        rr = _numbers(obj, "RR values")
        if rr.ndim != 1 or rr.size == 0:
            raise ValueError(f"RR values must be one-dimensional and not empty, not of shape {rr.shape}")
        rr_ms, known = rr_in_ms(rr, unit, name or "rr")
        rec_id = id if id is not None else name if name is not None else "recording"
        recording = Recording.from_rr(rr_ms, id=rec_id, unit=known)
    doubt = mostly_errors_warning([recording])
    if doubt is not None:
        # Python's own way to warn: the caller sees it once, and may turn it into an error or silence it.
        warnings.warn(render_hint(doubt, "python"), UserWarning, stacklevel=2)
    return recording


def rr_in_ms(rr: FloatArray, unit: Unit, name: str = "rr") -> tuple[FloatArray, RRUnit]:
    """RR values in milliseconds and the unit they were read in, by the rule of every reader (see
    :func:`~cardiospike.data.formats.columns.rr_unit`; ``name`` is the column's, whose unit it may give)."""
    known, _ = rr_unit(rr, unit, header_unit(name), name)
    return (rr * 1000.0 if known == "s" else rr), known


def mostly_errors_warning(recordings: Sequence[Recording]) -> str | None:
    """The warning about recordings of which more than half the beats are measurement errors (a hint template), or
    None: their RR are probably read in another unit or from another column, and what to try is chosen from the
    values of the first of them. Recordings of beats detected in an ECG are left to the ECG reader's own warning:
    their RR are in ms by construction, and no other column holds them."""
    bad = [r for r in recordings if r.doubtful is None and len(r) and mostly_errors(int(r.errors().sum()), len(r))]
    if not bad:
        return None
    named = ", ".join(repr(r.id) for r in bad[:NAMED_MOSTLY_ERRORS])
    if len(bad) > NAMED_MOSTLY_ERRORS:
        named += f" and {len(bad) - NAMED_MOSTLY_ERRORS} more"
    which = f"{len(bad)} recordings ({named})" if len(bad) > 1 else f"recording {named}"
    return (
        f"more than half the beats of {which} are measurement errors (RR outside {ERROR_RR_MIN_MS:g}-"
        f"{ERROR_RR_MAX_MS:g} ms), so its HRV and anomalies mean little; {misread_hint(bad[0].rr, bad[0].unit)}"
    )


def _numbers(values: Any, what: str) -> FloatArray:
    if isinstance(values, str | bytes | dict):
        raise ValueError(f"{what} must be numbers, not {type(values).__name__}")
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers") from None


def _from_frame(
    frame: pd.DataFrame,
    unit: Unit,
    rr_column: str | None,
    time_column: str | None,
    id_column: str | None,
    id: str | int | None,
) -> Recording:
    import pandas as pd

    names = [str(c) for c in frame.columns]
    try:
        roles = find_roles(names, "DataFrame", rr_column=rr_column, time_column=time_column, id_column=id_column)
    except RecordingFormatError as exc:
        raise ValueError(str(exc).removeprefix("DataFrame: ")) from None
    id_like = set(unused_id_columns(names, roles))
    for i, name in enumerate(names):
        if name.strip() in id_like and frame.iloc[:, i].nunique() > 1:  # several recordings would be one
            raise ValueError(render_hint(unused_id_warning(name.strip()), "python"))
    if roles.id is not None:
        ids = frame.iloc[:, roles.id].unique()
        if len(ids) > 1:
            raise ValueError(
                f"the DataFrame holds {len(ids)} recordings (column {names[roles.id]!r}): "
                "score them one by one (groupby) or read them with parse_recordings"
            )
        id = id if id is not None else str(ids[0])
    rr_name = names[roles.rr]
    rr = _numbers(frame.iloc[:, roles.rr], f"column {rr_name!r}")
    if rr.size == 0:
        raise ValueError("the DataFrame has no rows: no RR values")
    known, _ = rr_unit(rr, unit, header_unit(rr_name), rr_name)
    rr_ms = rr * 1000.0 if known == "s" else rr
    time = None
    if roles.time is not None:
        column = frame.iloc[:, roles.time]
        if pd.api.types.is_datetime64_any_dtype(column):
            time = (column - pd.Timestamp(0, tz=getattr(column.dt, "tz", None))).dt.total_seconds().to_numpy() * 1e3
        elif pd.api.types.is_timedelta64_dtype(column):
            time = column.dt.total_seconds().to_numpy() * 1000.0
        else:
            time = _numbers(column, f"column {names[roles.time]!r}")
            time = time * time_scale(time, rr_ms, header_unit(names[roles.time]))
    labels = frame.iloc[:, roles.label].to_numpy() if roles.label is not None else None
    return Recording.from_rr(rr_ms, id=id if id is not None else "recording", time=time, labels=labels, unit=known)
