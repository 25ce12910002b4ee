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
line (and in a row of RR, the bad value's place on it). Both take a row of any length in linear time; columns are
at most :data:`~cardiospike.data.formats.delimited.MAX_COLUMNS`, as in CSV.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cardiospike.data.arrow import arrow_numbers, numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.checks import show
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.delimited import MAX_COLUMNS
from cardiospike.data.formats.table import Table, recordings_of

#: Lines of numbers the separator is told from, and values a column's increase is judged on.
SAMPLE_LINES = 50
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$", re.IGNORECASE)
_FIELDS = re.compile(r"[\s;,]+")
# A field of a line of data, between separators (so without commas): a number, a clock time (08:00:00.859), or a
# date and time (2021-03-08T12:00:00). Atomic and possessive, and ending at a separator: a field is matched once and
# never tried again, so a long line (or field) is matched in linear time.
_FIELD = (
    r"(?>(?:[-+]?(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?\d++)?+|[-+]?(?i:inf|nan)"
    r"|\d{1,2}:\d{2}(?::\d{2}(?:\.\d*+)?+)?|\d{4}-\d{2}-\d{2}T\d[^\s;,]*+)(?=[\s;,]|\Z))"
)
_DATA_LINE = re.compile(rf"[\s;,]*+{_FIELD}(?:[\s;,]++{_FIELD})*+[\s;,]*+")


def data_like(line: str) -> bool:
    """A line of numbers (or clock times): data rather than a header line.

    Its fields (split at spaces, tabs, semicolons and commas) are each a number, a clock time or a date and time:
    matched by one regex, with no Python object per field, as a line may hold a million of them.
    """
    return _DATA_LINE.fullmatch(line) is not None


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
    data = content.utf8
    try:
        frame = pcsv.read_csv(
            pa.py_buffer(data),
            # One block for the whole input: pyarrow refuses a line longer than a block (a row of a million RR is
            # several megabytes; the default block is 1 MiB), and reads one block at a time here anyway.
            read_options=pcsv.ReadOptions(
                column_names=["line"], skip_rows=start, use_threads=False, block_size=max(len(data) + 1, 1 << 20)
            ),
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
        line_of, row = rows + start + 1, False
        if sep is None:
            values, n_columns = lines, 1
        else:
            values, typed, counts = _split(lines, sep)
            n_columns = int(counts[0])
            if counts.min() != counts.max() or (counts.size == 1 and n_columns > 2):
                if header is not None:
                    return None
                # A row of RR, as typed or pasted, wrapped anywhere; a separator at a line's end leaves nothing.
                line_of, n_columns, row = np.repeat(line_of, typed), 1, True
            elif (typed != counts).any():
                return None  # an empty field at a line's start or end: the careful path names it
            elif n_columns > MAX_COLUMNS:
                _too_wide(n_columns, int(line_of[0]), opts)
        if decimal_comma:
            values = pc.replace_substring(values, ",", ".")
        # Every line has n_columns fields: the flattened fields, line by line, are a matrix of that many columns.
        numbers = numpy_of(pc.cast(values, pa.float64())).reshape(-1, n_columns)
        columns = [np.ascontiguousarray(numbers[:, i]) for i in range(n_columns)]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if row:
        return Table(names=["rr"], columns=columns, roles=Roles(rr=0), where=_in_row(line_of))
    roles, names = _roles(_names(header, len(columns)), columns, opts, decimal_comma)
    return Table(names=names, columns=columns, roles=roles, where=lambda col, i: (int(line_of[i]), names[col]))


#: The bytes of RE2's ``\s`` (as pyarrow's regular expressions take it): ASCII whitespace.
_SPACES = b"\t\n\f\r "


def _split(lines: pa.Array, sep: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    r"""The fields of the lines, split at ``sep``: the values that are not empty, in order, how many of them each
    line has, and how many fields each line has as ``re.split`` counts them (empty ones too).

    A run of separators (``[\s;,]+``) is one: each of its bytes is made the same separator byte, so that the
    lines are split at a plain string (five times faster than pyarrow's regex split), and the empty fields inside a
    run are left out. UTF-8 never uses these bytes inside a character.
    """
    into = sep.encode() if len(sep) == 1 else b"," if "," in sep else b";"
    joined = lines
    if len(sep) > 1:  # a run of separators: each of their bytes made the same one
        table = np.arange(256, dtype=np.uint8)
        table[np.frombuffer(_SPACES + b";" + into, dtype=np.uint8)] = into[0]
        _, offsets, data = lines.buffers()
        mapped = pa.py_buffer(table[np.frombuffer(data, dtype=np.uint8)] if data is not None else b"")
        joined = pa.Array.from_buffers(lines.type, len(lines), [None, offsets, mapped], 0, lines.offset)
    parts = pc.split_pattern(joined, into.decode())
    n_parts = numpy_of(pc.list_value_length(parts)).astype(np.int64)
    fields = pc.list_flatten(parts)
    full = numpy_of(pc.binary_length(fields)) > 0
    starts = np.cumsum(n_parts) - n_parts  # every line has one part at least
    typed = np.add.reduceat(full.astype(np.int64), starts)
    if len(sep) == 1:  # a single separator: every field counts, empty or not
        counts = n_parts
    else:  # a run is one separator: an empty field only at a line's start or end
        counts = typed + (~full[starts]).astype(np.int64) + (~full[starts + n_parts - 1]).astype(np.int64)
    return fields.take(arrow_numbers(np.flatnonzero(full))), typed, counts


def _careful_table(content: Content, opts: Options) -> Table:
    """Every line as text, for inputs the fast path does not take: the first bad line is named."""
    import pandas as pd  # here, not at import: the fast readers need none of it (it takes 0.3 s to import)

    lines = pd.Series(content.text.split("\n"), dtype=object).str.strip()
    kept = lines[(lines != "") & ~lines.str.startswith("#")]
    start = next((i for i, line in enumerate(kept) if data_like(line)), None)
    if start is None:
        # No line is all numbers: one that starts with a number is a row of them with a bad value (named below),
        # not a header line.
        start = next((i for i, line in enumerate(kept) if _NUMBER.match(_FIELDS.split(line, maxsplit=1)[0])), None)
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
    if header is None and (counts.min() != counts.max() or (counts.size == 1 and n_columns > 2)):
        # A row of RR, as the fast path reads it: every value with its line and place, in one column.
        values = fields.explode().to_numpy(dtype=object)
        typed = values != ""
        line_of = np.repeat(line_numbers, counts)[typed]
        return Table(
            names=["rr"],
            columns=[values[typed]],
            roles=Roles(rr=0),
            where=_in_row(line_of),
            decimal_comma=decimal_comma,
        )
    off = np.flatnonzero(counts != n_columns)
    if off.size:
        raise RecordingFormatError(
            opts.source,
            f"{counts[off[0]]} fields where the first line of numbers has {n_columns}",
            row=int(line_numbers[off[0]]),
            value=show(str(numbers[off[0]])),
            hint=_HINT,
        )
    if n_columns > MAX_COLUMNS:  # before a column is made of each field
        _too_wide(n_columns, int(line_numbers[0]), opts)
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


def _too_wide(n_columns: int, line: int, opts: Options) -> None:
    raise RecordingFormatError(
        opts.source,
        f"{n_columns} fields on each line, more than the limit of {MAX_COLUMNS} columns",
        row=line,
        hint="RR as a row, without a header line, are read from one line or from lines of different lengths",
    )


def _in_row(line_of: np.ndarray) -> Callable[[int, int], tuple[int | None, str]]:
    """Where each value of a row of RR is: its line, and its place on the line (from 1)."""
    n = len(line_of)
    firsts = np.flatnonzero(np.diff(line_of, prepend=-1))  # each line's first value (values are in line order)
    place = np.arange(n) - np.repeat(firsts, np.diff(np.append(firsts, n))) + 1
    return lambda col, i: (int(line_of[i]), f"value {int(place[i])}")


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
        roles = opts.roles(
            names,
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
