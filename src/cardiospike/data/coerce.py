"""One recording from what a Python caller has at hand: a Recording, RR values, or a DataFrame with an RR column."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.columns import find_roles, header_unit, rr_unit, time_scale
from cardiospike.recording import FloatArray, Recording, Unit

if TYPE_CHECKING:
    import pandas as pd


def as_recording(
    obj: Any,
    *,
    unit: Unit = "auto",
    rr_column: str | None = None,
    time_column: str | None = None,
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
    rr_column, time_column : str, optional
        The DataFrame's RR and time columns, where their names do not say.
    id : str or int, optional
        The recording's id (default: the DataFrame's id column, the Series' name, or ``"recording"``).

    Returns
    -------
    Recording
        RR in milliseconds. As for :meth:`Recording.from_rr`, values that are not positive finite numbers are kept
        and scored as measurement errors.

    Raises
    ------
    ValueError
        Values that are not numbers, not one-dimensional or empty; a DataFrame without an RR column or of several
        recordings.
    """
    if isinstance(obj, Recording):
        return obj
    import pandas as pd  # here, not at import: reading and scoring recordings need no pandas

    if isinstance(obj, pd.DataFrame):
        return _from_frame(obj, unit, rr_column, time_column, id)
    name = str(obj.name) if isinstance(obj, pd.Series) and obj.name is not None else None
    rr = _numbers(obj, "RR values")
    if rr.ndim != 1 or rr.size == 0:
        raise ValueError(f"RR values must be one-dimensional and not empty, not of shape {rr.shape}")
    known, _ = rr_unit(rr, unit, header_unit(name), name or "rr")
    rec_id = id if id is not None else name if name is not None else "recording"
    return Recording.from_rr(rr * 1000.0 if known == "s" else rr, id=rec_id, unit=known)


def _numbers(values: Any, what: str) -> FloatArray:
    if isinstance(values, str | bytes | dict):
        raise ValueError(f"{what} must be numbers, not {type(values).__name__}")
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers") from None


def _from_frame(
    frame: pd.DataFrame, unit: Unit, rr_column: str | None, time_column: str | None, id: str | int | None
) -> Recording:
    import pandas as pd

    names = [str(c) for c in frame.columns]
    try:
        roles = find_roles(names, "DataFrame", rr_column=rr_column, time_column=time_column, rr_hint="rr_column=NAME")
    except RecordingFormatError as exc:
        raise ValueError(exc.problem + (f" ({exc.hint})" if exc.hint else "")) from None
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
