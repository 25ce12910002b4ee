"""CSV with a header row: comma, semicolon or tab separated, decimal points or (without commas between fields)
decimal commas, clock-time columns; the competition format ``id,time,x[,y]`` and every export that names its RR
column (see :mod:`~cardiospike.data.formats.columns`); and the Garmin FIT SDK's ``FitCSVTool`` export, by its header
(read by :mod:`~cardiospike.data.formats.fitcsv`).

Two paths read it. The fast one hands the bytes to pyarrow's CSV reader (which releases the GIL and makes no Python
object per value) and counts the recordings before any per-recording work; it reads a million beats in well under a
second. Anything it cannot take as it is (a bad or missing value, a short row, whitespace-only rows) goes to the
careful path, which reads every cell as text with pandas, so that the first bad value is named by its line and field.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from cardiospike.data.arrow import numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.checks import excerpt
from cardiospike.data.formats.columns import looks_like_time_of_day
from cardiospike.data.formats.fitcsv import is_fitcsv, read_fitcsv
from cardiospike.data.formats.table import Table, arrow_ids, recordings_of
from cardiospike.errors import first_line

#: Most columns in a CSV header: exports have a handful; thousands are no recording, and cost time to read.
MAX_COLUMNS = 256
SEPARATORS = (",", ";", "\t")


class _Header:
    """The header row: where it is, the separator, the names, and how the numbers below it are written."""

    def __init__(self, content: Content, opts: Options) -> None:
        head = content.head()
        lines = head.split("\n")
        self.skipped = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
        if self.skipped == len(lines):
            raise RecordingFormatError(opts.source, "no header row")
        header = lines[self.skipped]
        self.line = self.skipped + 1
        self.sep = max(SEPARATORS, key=header.count)
        # Counted before anything reads the rows: every row would get as many fields as the header has.
        if header.count(self.sep) >= MAX_COLUMNS:
            raise RecordingFormatError(
                opts.source, f"the header has more than {MAX_COLUMNS} columns, the limit", row=self.line
            )
        self.names = [name.strip().strip('"').strip() for name in next(csv.reader([header], delimiter=self.sep))]
        twice = next((n for n, k in Counter(name.lower() for name in self.names).items() if k > 1), None)
        if twice is not None:
            raise RecordingFormatError(
                opts.source, f"column {excerpt(twice)} appears twice in the header", row=self.line
            )
        self.roles = opts.roles(
            self.names,
            row=self.line,
        )
        sample = [line for line in lines[self.skipped + 1 :] if line.strip()][:50]
        # Fields separated by semicolons or tabs may hold decimal commas (European exports).
        self.decimal_comma = self.sep != "," and any(re.search(r"\d,\d", line) for line in sample)
        fields = next(csv.reader(sample[:1], delimiter=self.sep), [])
        time = self.roles.time
        self.clock_time = time is not None and time < len(fields) and looks_like_time_of_day(fields[time])


def read_csv(content: Content, opts: Options) -> Recordings:
    # Before the header is read as column names: FitCSVTool's names no RR column, and may name over MAX_COLUMNS.
    if is_fitcsv(content.head()):
        return read_fitcsv(content, opts)
    header = _Header(content, opts)
    table = _fast_table(content, header, opts)
    if table is None:
        return recordings_of(_careful_table(content, header, opts), opts)
    try:
        return recordings_of(table, opts)
    except RecordingFormatError as exc:
        if exc.row is None or _lines_exact(content, header, len(table.values(header.roles.rr))):
            raise
        recordings_of(_careful_table(content, header, opts), opts)  # raises the same error, at its true line
        raise


def _lines_exact(content: Content, header: _Header, n_rows: int) -> bool:
    """Whether row ``i`` is on line ``header.line + 1 + i``: no blank lines or line breaks inside quoted values."""
    data = content.utf8
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return n_lines == header.line + n_rows


def _fast_table(content: Content, header: _Header, opts: Options) -> Table | None:
    """The table as pyarrow reads it, or None where the careful path must read it."""
    roles, n = header.roles, len(header.names)
    keys = [f"c{i}" for i in range(n)]  # pyarrow needs unique names; the header's are checked apart
    types = {keys[roles.rr]: pa.float64()}
    if roles.time is not None and opts.use_time:
        types[keys[roles.time]] = pa.string() if header.clock_time else pa.float64()
    if roles.label is not None:
        types[keys[roles.label]] = pa.float64()
    if roles.id is not None:
        types[keys[roles.id]] = pa.string()
    read = keys if opts.keep_columns else [k for k in keys if k in types]
    try:
        frame = pcsv.read_csv(
            pa.py_buffer(content.utf8),
            read_options=pcsv.ReadOptions(skip_rows=header.line, column_names=keys, use_threads=False),
            parse_options=pcsv.ParseOptions(delimiter=header.sep),
            convert_options=pcsv.ConvertOptions(
                column_types={**{k: pa.string() for k in read}, **types},
                include_columns=read,
                null_values=[""],
                strings_can_be_null=False,
                decimal_point="," if header.decimal_comma else ".",
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if frame.num_rows == 0:
        raise RecordingFormatError(opts.source, "no data rows after the header", structural=True)
    if any(frame.column(k).null_count for k in types):
        return None
    ids = None if roles.id is None else arrow_ids(frame.column(keys[roles.id]), opts)
    if roles.id is not None and ids is None:
        return None
    # The id column is read through its dictionary (above): no Python string per row.
    columns = [
        numpy_of(frame.column(k)) if k in frame.column_names and i != roles.id else None for i, k in enumerate(keys)
    ]
    first_row = header.line + 1
    return Table(
        names=header.names,
        columns=columns,
        roles=roles,
        where=lambda col, i: (first_row + i, header.names[col]),
        ids=ids,
    )


def _row_lines(body: str, sep: str) -> np.ndarray:
    """The line (from 1) on which each row of ``body`` starts, rows that hold line breaks in quotes counted whole."""
    reader = csv.reader(io.StringIO(body), delimiter=sep)
    starts, end = [], 0
    for _ in reader:
        starts.append(end + 1)
        end = reader.line_num
    return np.asarray(starts)


def _careful_table(content: Content, header: _Header, opts: Options) -> Table:
    """Every cell as text, every row with its true line number (blank rows skipped)."""
    import pandas as pd  # here, not at import: the fast readers need none of it (it takes 0.3 s to import)

    body = "\n".join(content.text.split("\n")[header.skipped :])
    try:
        # Reading the header as a row makes any row with more fields than the header an error.
        frame = pd.read_csv(
            io.StringIO(body), sep=header.sep, header=None, dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        problem = f"malformed CSV: {excerpt(first_line(exc), 120, quoted=False)}"
        raise RecordingFormatError(opts.source, problem, structural=True) from None
    frame = frame.iloc[1:].fillna("")
    blank = (frame.apply(lambda col: col.str.strip()) == "").all(axis=1)
    frame = frame.loc[~blank.to_numpy()]
    if frame.empty:
        raise RecordingFormatError(opts.source, "no data rows after the header", structural=True)
    lines = _row_lines(body, header.sep)[frame.index.to_numpy()] + header.skipped
    return Table(
        names=header.names,
        columns=[frame[i].to_numpy(dtype=object) for i in range(len(header.names))],
        roles=header.roles,
        where=lambda col, i: (int(lines[i]), header.names[col]),
        decimal_comma=header.decimal_comma,
    )
