"""Plain text: one or two columns of numbers (RR, or time and RR) after any header lines.

As Kubios, Elite HRV, PhysioNet's ``ann2rr`` and ``np.savetxt`` write them: fields separated by spaces, tabs,
semicolons or commas; scientific notation (``1.020000000000000000e+03``); decimal commas where commas do not separate
fields; clock times in the time column. Lines before the first line of numbers are header lines; the last of them
names the columns where it has one name per column (then the names choose RR and time, and may give their unit).
Without names, two columns are time and RR (the increasing one is time). Blank lines and ``#`` comments are skipped.
RR typed or pasted as a row (``812, 790, 805``), wrapped anywhere, without a header line, are read as one value per
beat: a line of three or more numbers, or lines of numbers of different lengths, are no columns.

As for CSV, pyarrow splits and converts the lines where they are all numbers with one count of fields (without
pandas); anything else (clock times, a bad line) is read again line by line with pandas, which names the first bad
line.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cardiospike.data.arrow import arrow_numbers, numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles, find_roles, looks_like_time_of_day
from cardiospike.data.formats.table import Table, recordings_of

#: Lines of numbers the separator is told from, and values a column's increase is judged on.
SAMPLE_LINES = 50
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$", re.IGNORECASE)


def data_like(line: str) -> bool:
    """A line of numbers (or clock times): data rather than a header line."""
    fields = [f for f in re.split(r"[\s;,]+", line.strip()) if f]
    return bool(fields) and all(_NUMBER.match(f) or looks_like_time_of_day(f) for f in fields)


def read_text(content: Content, opts: Options) -> Recordings:
    head = content.head()
    lines = head.split("\n")
    start, header = None, None
    for i, raw in enumerate(lines):
        line = raw.strip()
        if line and not line.startswith("#"):
            if data_like(line):
                start = i
                break
            header = line
    table = None if start is None else _fast_table(content, start, header, opts)
    return recordings_of(table if table is not None else _careful_table(content, opts), opts)


def _fast_table(content: Content, start: int, header: str | None, opts: Options) -> Table | None:
    """The lines of numbers split by pyarrow's compute functions (no Python object per value, the GIL released);
    None where a line does not fit (another number of fields, something not a number): the careful path names it.

    No Python value goes into a compute call (pyarrow would import pandas to convert it): masks are made in numpy.
    """
    try:
        frame = pcsv.read_csv(
            pa.py_buffer(content.utf8),
            read_options=pcsv.ReadOptions(column_names=["line"], skip_rows=start, use_threads=False),
            # One field per line: a separator and quotes that never occur in a file of numbers.
            parse_options=pcsv.ParseOptions(delimiter="\x1f", quote_char=False, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
        )
        lines = pc.utf8_trim_whitespace(frame.column("line").combine_chunks())
        comment = numpy_of(pc.cast(pc.starts_with(lines, "#"), pa.int8())).astype(bool)
        rows = np.flatnonzero((numpy_of(pc.utf8_length(lines)) > 0) & ~comment)
        if not rows.size:
            return None
        lines = lines.take(arrow_numbers(rows))
        sep, decimal_comma = _separator(lines.slice(0, SAMPLE_LINES))
        line_of = rows
        if sep is None:
            values, n_columns = lines, 1
        else:
            parts = pc.split_pattern_regex(lines, sep) if len(sep) > 1 else pc.split_pattern(lines, sep)
            counts = numpy_of(pc.list_value_length(parts))
            values, n_columns = pc.list_flatten(parts), int(counts[0])
            if counts.min() != counts.max() or (counts.size == 1 and n_columns > 2):
                if header is not None:
                    return None
                # A row of RR, as typed or pasted, wrapped anywhere; a separator at a line's end leaves nothing.
                typed = numpy_of(pc.utf8_length(values)) > 0
                values = values.filter(pa.array(typed))
                line_of, n_columns = np.repeat(rows, counts)[typed], 1
        if decimal_comma:
            values = pc.replace_substring(values, ",", ".")
        # Every line has n_columns fields: the flattened fields, line by line, are a matrix of that many columns.
        numbers = numpy_of(pc.cast(values, pa.float64())).reshape(-1, n_columns)
        columns = [np.ascontiguousarray(numbers[:, i]) for i in range(n_columns)]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    line_numbers = line_of + start + 1
    roles, names = _roles(_names(header, len(columns)), columns, opts, decimal_comma)
    return Table(names=names, columns=columns, roles=roles, where=lambda col, i: (int(line_numbers[i]), names[col]))


def _careful_table(content: Content, opts: Options) -> Table:
    """Every line as text, for inputs the fast path does not take: the first bad line is named."""
    import pandas as pd  # here, not at import: the fast readers need none of it (it takes 0.3 s to import)

    lines = pd.Series(content.text.split("\n"), dtype=object).str.strip()
    kept = lines[(lines != "") & ~lines.str.startswith("#")]
    start = next((i for i, line in enumerate(kept) if data_like(line)), None)
    if start is None:
        raise RecordingFormatError(opts.source, "empty recording: no RR values", hint=_HINT)
    header = kept.iloc[start - 1] if start else None
    body = kept.iloc[start:]
    numbers = body.to_numpy(dtype=object)
    line_numbers = body.index.to_numpy() + 1
    sep, decimal_comma = _separator(pa.array(numbers, type=pa.string()))
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
    return Table(
        names=names,
        columns=columns,
        roles=roles,
        where=lambda col, i: (int(line_numbers[i]), names[col]),
        decimal_comma=decimal_comma,
    )


_HINT = "{format=csv} reads a file with a header row"


def _separator(lines: pa.Array) -> tuple[str | None, bool]:
    """The field separator of the lines of numbers (None: one field), and whether commas are decimal commas."""
    first = str(lines[0].as_py())
    if re.search(r",(\s|$)", first):  # a comma before a space or at the end separates: "812, 790," as typed
        return r"[\s;,]+", False
    if ";" in first or re.search(r"\s", first):
        return r"[\s;]+", "," in first
    if "," not in first:
        return None, False
    # "0,812" is a decimal comma, or time 0 and RR 812: a first column that does not increase is no time.
    if (numpy_of(pc.count_substring(lines, ",")) == 1).all():
        head = pc.list_flatten(pc.split_pattern(lines.slice(0, SAMPLE_LINES), ",", max_splits=1))
        if not _increasing(np.array(head.to_pylist()[::2], dtype=object), False):  # the part before each comma
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
        roles = find_roles(
            names,
            opts.source,
            rr_column=opts.rr_column,
            time_column=opts.time_column,
            id_column=opts.id_column,
            need_rr=False,
        )
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
        hint="{rr_column=N} (and {time_column=N}) choose columns by number, from 1",
    )


def _increasing(values: np.ndarray, decimal_comma: bool) -> bool:
    """Whether the first values (numbers, or numbers as text) increase, as times do."""
    head = values[:SAMPLE_LINES]
    if head.dtype.kind == "O":
        head = np.array([_number(str(value), decimal_comma) for value in head], dtype=np.float64)
    return bool(head.size > 1 and (np.diff(head.astype(np.float64)) > 0).all())


def _number(text: str, decimal_comma: bool) -> float:
    """A number written as text; NaN where it is none."""
    text = text.strip().replace(",", ".") if decimal_comma else text.strip()
    try:
        return float(text) if _NUMBER.match(text) else np.nan
    except ValueError:  # "1,5" without decimal commas
        return np.nan
