"""Polar HRM: ``[Params]`` with ``Interval=238`` (R-R recording), then one RR interval in ms per line of ``[HRData]``.

Other columns of ``[HRData]`` (speed, cadence, altitude ... as ``SMode`` says) are carried as extra columns. An
``Interval`` other than 238 means heart rate sampled every so many seconds: no RR intervals to read.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cardiospike.data.arrow import arrow_numbers, numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.checks import excerpt
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of

#: ``Interval`` of a Polar HRM file that holds R-R intervals.
RR_INTERVAL = "238"
#: Most fields on a line of ``[HRData]``: RR, or heart rate with speed, cadence, altitude, power, pedalling and air
#: pressure as ``SMode`` says (at most 9). Counted before any line is split, as each field becomes a column.
MAX_COLUMNS = 16


def is_hrm(head: str) -> bool:
    return bool(re.search(r"^\s*\[(HRData|Params)\]\s*$", head, re.IGNORECASE | re.MULTILINE))


def read_hrm(content: Content, opts: Options) -> Recordings:
    """Lines are worked on column-wise, by pyarrow (no Python object per line, no pandas where RR are numbers)."""
    lines = _lines(content.text)
    # Each line belongs to the last [Section] header above it (a section named twice is one section).
    heads = np.flatnonzero(_matches(lines, r"^\[[^\]]+\]$"))
    below = np.searchsorted(heads, np.arange(len(lines)), side="right") - 1  # each line's header; -1: none
    body = (below >= 0) & (numpy_of(pc.utf8_length(lines)) > 0)
    body[heads] = False

    def section(name: str) -> np.ndarray:
        named = np.append(_matches(lines, rf"^\[\s*{name}\s*\]$", ignore_case=True)[heads], False)
        return np.flatnonzero(body & named[below])  # a line above every header (below -1) picks the False

    params = lines.take(arrow_numbers(section("params")))
    # As a dict of the lines would have it: the last Interval= wins.
    values = pc.replace_substring_regex(
        params.take(arrow_numbers(np.flatnonzero(_matches(params, r"^Interval=")))), r"^[^=]*=", ""
    )
    interval = values.slice(len(values) - 1).to_pylist()[0].strip() if len(values) else ""
    if interval != RR_INTERVAL:
        raise RecordingFormatError(
            opts.source,
            f"[Params] Interval={excerpt(interval, quoted=False) or '(none)'}: heart rate samples, not RR intervals "
            f"(a Polar HRM file of RR intervals has Interval={RR_INTERVAL})",
        )
    at = section("hrdata")
    if not at.size:
        raise RecordingFormatError(opts.source, "empty recording: no lines in [HRData]", structural=True)
    rows = lines.take(arrow_numbers(at))
    counts = numpy_of(pc.count_substring_regex(rows, r"\s+")).astype(np.int64) + 1  # stripped: a gap per field more
    wide = np.flatnonzero(counts > MAX_COLUMNS)
    if wide.size:
        raise RecordingFormatError(
            opts.source,
            f"{counts[wide[0]]} fields on a line of [HRData], more than the {MAX_COLUMNS} columns a Polar HRM file has",
            row=int(at[wide[0]]) + 1,
        )
    fields = pc.list_flatten(pc.split_pattern_regex(rows, r"\s+"))
    starts = np.cumsum(counts) - counts
    columns = [_column(fields, starts, counts, i, numbers=i == 0) for i in range(int(counts.max()))]
    columns_names = ["rr", *(f"hrdata{i + 1}" for i in range(1, len(columns)))]
    numbers = at + 1
    table = Table(
        names=columns_names,
        columns=columns,
        roles=Roles(rr=0),
        where=lambda col, i: (int(numbers[i]), columns_names[col]),
    )
    return recordings_of(table, opts)


def _matches(lines: pa.Array, pattern: str, *, ignore_case: bool = False) -> np.ndarray:
    return numpy_of(pc.cast(pc.match_substring_regex(lines, pattern, ignore_case=ignore_case), pa.int8())).astype(bool)


def _lines(text: str) -> pa.LargeStringArray:
    """The lines of a text, stripped, as one arrow array sharing its UTF-8 bytes (offsets at the line ends)."""
    data = text.encode("utf-8")
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    offsets = np.concatenate([[0], ends + 1, [len(data) + 1]]).astype(np.int64)
    lines = pa.Array.from_buffers(
        pa.large_string(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data + b"\n")]
    )
    return pc.utf8_trim_whitespace(lines)  # the line ends go with the other whitespace


def _column(fields: pa.Array, starts: np.ndarray, counts: np.ndarray, i: int, *, numbers: bool) -> np.ndarray:
    """The ``i``-th field of every line: numbers where RR all are (no Python object per value), else text, empty
    where a line is shorter (refused where RR is missing)."""
    has = counts > i
    values = fields.take(arrow_numbers(starts[has] + i))
    if numbers and has.all():
        try:
            return numpy_of(pc.cast(values, pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # the table stage names the first value that is no number
    column = np.full(len(counts), "", dtype=object)
    column[has] = values.to_numpy(zero_copy_only=False)
    return column
