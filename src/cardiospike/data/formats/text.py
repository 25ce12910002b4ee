"""Plain text: one or two columns of numbers (RR, or time and RR) after any header lines.

As Kubios, Elite HRV, PhysioNet's ``ann2rr`` and ``np.savetxt`` write them: fields separated by spaces, tabs,
semicolons or commas; scientific notation (``1.020000000000000000e+03``); decimal commas where commas do not separate
fields; clock times in the time column. Lines before the first line of numbers are header lines; the last of them
names the columns where it has one name per column (then the names choose RR and time, and may give their unit).
Without names, two columns are time and RR (the increasing one is time). Blank lines and ``#`` comments are skipped.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles, find_roles, looks_like_time_of_day
from cardiospike.data.formats.table import Table, recordings_of

_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$", re.IGNORECASE)


def data_like(line: str) -> bool:
    """A line of numbers (or clock times): data rather than a header line."""
    fields = [f for f in re.split(r"[\s;,]+", line.strip()) if f]
    return bool(fields) and all(_NUMBER.match(f) or looks_like_time_of_day(f) for f in fields)


def read_text(content: Content, opts: Options) -> Recordings:
    lines = pd.Series(content.text.split("\n"), dtype=object).str.strip()
    kept = lines[(lines != "") & ~lines.str.startswith("#")]
    start = next((i for i, line in enumerate(kept) if data_like(line)), None)
    if start is None:
        raise RecordingFormatError(opts.source, "empty recording: no RR values", hint=_HINT)
    header = kept.iloc[start - 1] if start else None
    body = kept.iloc[start:]
    numbers = body.to_numpy(dtype=object)
    line_numbers = body.index.to_numpy() + 1
    sep, decimal_comma = _separator(body)
    fields = body.map(lambda line: [line]) if sep is None else body.str.split(sep, regex=len(sep) > 1)
    counts = fields.map(len).to_numpy()
    n_columns = int(counts[0])
    off = np.flatnonzero(counts != n_columns)
    if off.size:
        raise RecordingFormatError(
            opts.source,
            f"{counts[off[0]]} fields where the first line of numbers has {n_columns}",
            row=int(line_numbers[off[0]]),
            value=repr(str(numbers[off[0]])[:24]),
            hint=_HINT,
        )
    columns = [fields.str[i].to_numpy(dtype=object) for i in range(n_columns)]
    roles, names = _roles(_names(header, n_columns), columns, opts, decimal_comma)
    return recordings_of(
        Table(
            names=names,
            columns=columns,
            roles=roles,
            where=lambda col, i: (int(line_numbers[i]), names[col]),
            decimal_comma=decimal_comma,
        ),
        opts,
    )


_HINT = "--format csv reads a file with a header row"


def _separator(body: pd.Series) -> tuple[str | None, bool]:
    """The field separator of the lines of numbers (None: one field), and whether commas are decimal commas."""
    first = str(body.iloc[0])
    if ";" in first or re.search(r"\s", first):
        return r"[\s;]+", "," in first
    if "," not in first:
        return None, False
    # "0,812" is a decimal comma, or time 0 and RR 812: a first column that does not increase is no time.
    if body.str.count(",").eq(1).all() and not _increasing(body.str.split(",", n=1).str[0].to_numpy(), False):
        return None, True
    return ",", False


def _names(header: str | None, n_columns: int) -> list[str]:
    """The column names of the last header line, where it has one per column."""
    if header is None:
        return [""] * n_columns
    header = header.lstrip("#").strip()
    for pattern in (r"\t|;|,", r"\s{2,}", r"\s+"):
        names = [n.strip() for n in re.split(pattern, header) if n.strip()]
        if len(names) == n_columns:
            return names
    return [""] * n_columns


def _roles(names: list[str], columns: list[np.ndarray], opts: Options, decimal_comma: bool) -> tuple[Roles, list[str]]:
    """The columns' roles, by their names where the header names RR, else by position; and the names to show."""
    if any(names) or opts.rr_column is not None or opts.time_column is not None:
        roles = find_roles(names, opts.source, rr_column=opts.rr_column, time_column=opts.time_column, need_rr=False)
        if roles.rr >= 0:
            return roles, [name or f"column{i + 1}" for i, name in enumerate(names)]
    if len(columns) == 1:
        return Roles(rr=0), ["rr"]
    if len(columns) == 2:
        # Time comes first (ann2rr, np.savetxt of time and RR), unless only the second column increases.
        if _increasing(columns[1], decimal_comma) and not _increasing(columns[0], decimal_comma):
            return Roles(rr=0, time=1), ["rr", "time"]
        return Roles(rr=1, time=0), ["time", "rr"]
    raise RecordingFormatError(
        opts.source,
        f"{len(columns)} columns of numbers and no names for them: expected RR, or time and RR",
        hint="--rr-column N (and --time-column N) choose columns by number, from 1",
    )


def _increasing(values: np.ndarray, decimal_comma: bool) -> bool:
    text = pd.Series(values[:50], dtype=object)
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    head = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    return bool(head.size > 1 and (np.diff(head) > 0).all())
