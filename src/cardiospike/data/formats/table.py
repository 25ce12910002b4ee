"""From columns of beats to recordings: the one place that checks RR, times, ids and labels of every table format.

CSV, text, NDJSON and JSON lists of beat objects, ``.npy`` arrays: each reader finds its columns and says where each
value is; :func:`recordings_of` converts units, checks every value (the first bad one stops, named by line and
field), and splits the beats into recordings, keeping their order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cardiospike.data.arrow import numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Options, Recordings
from cardiospike.data.formats.checks import (
    Where,
    check_count,
    check_finite,
    check_rr,
    excerpt,
    first,
    labels_of,
    numeric,
    raise_at,
    show,
)
from cardiospike.data.formats.columns import (
    Roles,
    header_unit,
    looks_like_time_of_day,
    option,
    rr_unit,
    time_scale,
    times_of_day,
    unused_id_columns,
    unused_id_warning,
)
from cardiospike.recording import ERROR, ID, LABEL, PROBA, REFERENCE, RR, TIME, Recording, time_from_rr

if TYPE_CHECKING:
    import pandas as pd

#: Columns of the scored output: an input column of one of these names is carried as ``input_<name>``.
OUTPUT_COLUMNS = frozenset({ID, TIME, RR, LABEL, REFERENCE, PROBA, ERROR})


@dataclass
class Table:
    """Columns of beats as a reader found them, before they are checked and split into recordings.

    Attributes
    ----------
    names : list of str
        Column names as in the input.
    columns : list of ndarray or None
        Each column's values: numbers, or text (object arrays); None for a column that was not read.
    roles : Roles
        Which columns hold RR, times, ids and labels.
    where : callable
        (column, row index) -> (line or None, field): where a value is, for messages.
    ids : tuple of (ndarray, list of str), optional
        Recording codes per row (in order of first appearance) and the recordings' ids, where the reader worked
        them out (and checked their count) itself.
    decimal_comma : bool
        Text numbers use a decimal comma.
    """

    names: list[str]
    columns: Sequence[np.ndarray | None]
    roles: Roles
    where: Callable[[int, int], tuple[int | None, str]]
    ids: tuple[np.ndarray, list[str]] | None = None
    decimal_comma: bool = False

    def at(self, column: int) -> Where:
        return lambda i: self.where(column, i)

    def values(self, column: int) -> np.ndarray:
        values = self.columns[column]
        assert values is not None, "a column of a role is always read"
        return values


def recordings_of(table: Table, opts: Options) -> Recordings:
    """Check a table's values and split its beats into recordings (see the module docstring).

    RR are in ``opts.fixed_unit`` where the format defines their unit, else in the unit ``opts.unit`` says or finds.
    """
    source, roles = opts.source, table.roles
    codes, names = _recording_ids(table, opts)
    rr_name = table.names[roles.rr]
    rr = numeric(table.values(roles.rr), source, table.at(roles.rr), table.decimal_comma)
    if opts.fixed_unit is not None:
        unit, note = opts.fixed_unit, None
    else:
        unit, note = rr_unit(rr, opts.unit, header_unit(rr_name), rr_name)
    scale = 1000.0 if unit == "s" else 1.0
    check_rr(rr, source, table.at(roles.rr), scale)
    rr_ms = rr * scale if scale != 1.0 else rr
    time, converted_time = _times(table, opts, rr_ms) if opts.use_time and roles.time is not None else (None, False)
    labels = labels_of(table.values(roles.label), source, table.at(roles.label)) if roles.label is not None else None

    # Output keeps input order beat for beat, so a recording's rows must be consecutive.
    back = first(np.diff(codes) < 0)
    if back is not None:
        row, _ = table.where(roles.id if roles.id is not None else roles.rr, back + 1)
        raise RecordingFormatError(
            source,
            "the rows of a recording are not together (keep each recording's rows consecutive)",
            row=row,
            field=table.names[roles.id] if roles.id is not None else None,
            value=f"recording {excerpt(names[codes[back + 1]])}",
        )
    if time is not None:
        assert roles.time is not None
        steps = np.diff(time)
        bad = first((codes[1:] == codes[:-1]) & ~(steps > 0))
        if bad is not None:
            twice = roles.id is not None and steps[bad] == 0
            raise_at(
                source,
                "duplicated (id, time): this beat appears twice"
                if twice
                else "time is not increasing within the recording",
                table.at(roles.time),
                bad + 1,
                hint=None if twice else _time_hint(table, time, bad + 1),
            )

    bounds = np.flatnonzero(np.diff(codes)) + 1
    recordings = Recordings(
        Recording(
            id=names[codes[start]],
            rr=rr_ms[start:end],
            time=time_from_rr(rr_ms[start:end]) if time is None else time[start:end],
            labels=None if labels is None else labels[start:end],
            unit=unit,
        )
        for start, end in zip([0, *bounds], [*bounds, len(codes)], strict=True)
    )
    recordings.unit, recordings.unit_note = unit, note
    recordings.warnings = tuple(unused_id_warning(name) for name in unused_id_columns(table.names, roles)[:1])
    if opts.keep_columns:
        recordings.extra = _extra(table, carried={roles.rr} if scale != 1.0 else set(), converted_time=converted_time)
    return recordings


def arrow_ids(column: pa.ChunkedArray, opts: Options) -> tuple[np.ndarray, list[str]] | None:
    """Recording codes and ids of a pyarrow column of ids, counted before anything is done per recording (a flood
    of one-beat recordings stops at once); None where ids differ only by surrounding spaces, or some are missing (an
    NDJSON line without the key): the careful path names the line."""
    if column.null_count:
        return None
    encoded = pc.dictionary_encode(column.combine_chunks())
    check_count(len(encoded.dictionary), opts.max_recordings, opts.source)
    names = [str(name).strip() for name in encoded.dictionary.to_pylist()]
    if len(set(names)) < len(names):
        return None
    return numpy_of(encoded.indices).astype(np.intp), names


def _time_hint(table: Table, time: np.ndarray, at: int) -> str:
    """What to try where times go back: ignoring them merges recordings laid one after another, so it is proposed
    only where nothing says the file holds several."""
    id_like = unused_id_columns(table.names, table.roles)
    if id_like:
        return f"{option('id_column', id_like[0])} reads one recording per value of {excerpt(id_like[0])}"
    if table.roles.id is None and time[at] <= time[0]:
        return (
            "the times start again: several recordings one after another? An id column tells them apart "
            "({id_column}); {ignore_time} would score them as one"
        )
    return "{ignore_time} times beats by RR instead"


def _recording_ids(table: Table, opts: Options) -> tuple[np.ndarray, list[str]]:
    """Recording code per row (in order of first appearance) and the ids, their count checked first."""
    roles = table.roles
    n_rows = len(table.values(roles.rr))
    if table.ids is not None:
        codes, names = table.ids
    elif roles.id is not None:
        import pandas as pd  # the careful path (the fast one reads ids through pyarrow)

        raw = pd.Series(table.values(roles.id), dtype=object).fillna("").astype(str).str.strip()
        found, uniques = pd.factorize(raw)
        check_count(len(uniques), opts.max_recordings, opts.source)
        codes, names = found, [str(u) for u in uniques]
    else:
        return np.zeros(n_rows, dtype=np.intp), [opts.default_id]
    if "" in names:
        assert roles.id is not None
        at = int(np.argmax(codes == names.index("")))
        raise_at(opts.source, "empty recording id", table.at(roles.id), at, structural=True)
    return codes, names


def _times(table: Table, opts: Options, rr_ms: np.ndarray) -> tuple[np.ndarray, bool]:
    """Beat times in ms, and whether they were converted (from clock times or seconds)."""
    roles = table.roles
    assert roles.time is not None
    raw, where = table.values(roles.time), table.at(roles.time)
    if raw.dtype.kind in "Mm":  # dates and times (Parquet timestamps: from 1970-01-01 UTC), or durations
        ns = raw.astype("datetime64[ns]" if raw.dtype.kind == "M" else "timedelta64[ns]").astype(np.int64)
        return (ns // 1_000_000).astype(np.float64) + (ns % 1_000_000) / 1e6, True  # whole ms exact
    if raw.dtype.kind == "O" and len(raw) and looks_like_time_of_day(str(raw[0])):
        time, bad = times_of_day(raw)
        if bad is not None:
            raise_at(opts.source, "not a time of day", where, bad, show(str(raw[bad]).strip()))
        return time, True
    time = numeric(raw, opts.source, where, table.decimal_comma)
    check_finite(time, opts.source, where)
    scale = time_scale(time, rr_ms, header_unit(table.names[roles.time]))
    return (time * scale, True) if scale != 1.0 else (time, False)


def _extra(table: Table, carried: set[int], converted_time: bool) -> pd.DataFrame | None:
    """The input's other columns, and those of RR and times where they were converted, to go with the output (None
    where there are none)."""
    roles = table.roles
    keep = carried | ({roles.time} if converted_time and roles.time is not None else set())
    frame = {}
    for i, (name, values) in enumerate(zip(table.names, table.columns, strict=True)):
        if values is None or (i in roles.used() and i not in keep):
            continue
        name = name.strip() or f"column{i + 1}"
        frame[f"input_{name}" if name in OUTPUT_COLUMNS or name in frame else name] = values
    if not frame:
        return None
    import pandas as pd  # only where there are columns to carry: importing it takes about 0.3 s

    return pd.DataFrame(frame)
