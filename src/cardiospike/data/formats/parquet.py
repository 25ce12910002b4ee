"""Parquet files: the competition columns (``id``, ``time``, ``x`` [, ``y``]) or any columns named as in CSV files,
read by pyarrow, one file at a time (a file of its own, or one partition of a dataset folder).

Parquet is read from files only, never from content a service receives: its reader trusts the sizes a file
declares, so a small upload could claim gigabytes once decompressed. Values go through the same table stage as
every other format (:mod:`~cardiospike.data.formats.table`): the same units, checks and errors. Text columns are
read as text is in CSV (numbers in them parsed, clock times read as such); timestamps are read as dates and times,
in milliseconds since 1970-01-01 UTC. A value is located by its column and row index (``x[12]``).

The size limit of input files bounds the bytes of a Parquet file, not what they expand to: a 140 KB file of zstd
pages can declare 20 million rows. Before any column is read, its footer is checked (:func:`parquet_file`): at most
:data:`MAX_ROWS` rows, and at most :data:`MAX_COLUMN_BYTES` uncompressed bytes per column read. The columns of RR,
times, ids and labels must hold values (numbers, text, times), not lists or structs.
"""

from __future__ import annotations

import os
from collections import Counter
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cardiospike.data.arrow import numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Options, Recordings
from cardiospike.data.formats.checks import excerpt, raise_at
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, arrow_ids, recordings_of
from cardiospike.errors import first_line
from cardiospike.recording import MAX_RECORDING_BEATS

if TYPE_CHECKING:
    import pyarrow.parquet as pq

#: The first (and last) bytes of every Parquet file.
MAGIC = b"PAR1"
#: Extensions of Parquet files: a dataset folder's partitions are its files with these.
SUFFIXES = (".parquet", ".pq")
#: Most rows of one Parquet file, as its footer declares them: ten recordings as long as any limit allows (about as
#: many beats as the largest CSV file read holds). A dataset folder may hold any number of such files.
MAX_ROWS = 10 * MAX_RECORDING_BEATS
#: Most bytes one column read may expand to once decompressed, as the footer declares them: as much as a whole input
#: file of another format may hold (``MAX_INPUT_BYTES``, 256 MiB); 10 million float64 values are 80 MB.
MAX_COLUMN_BYTES = 256 * 1024 * 1024


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether a local file is Parquet: by its extension, else by its first bytes."""
    p = Path(path)
    if p.suffix.lower() in SUFFIXES:
        return True
    try:
        with open(p, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def parquet_file(source: bytes | str | os.PathLike[str] | BinaryIO, name: str) -> pq.ParquetFile:
    """The Parquet file of a path, an open file or its bytes, to be read whole; RecordingFormatError naming ``name``
    if it is none, or if its footer declares more rows or bytes than the limits."""
    file = _open(source, name)
    _check_footer(file, name, None)
    return file


def _open(
    source: bytes | str | os.PathLike[str] | BinaryIO, name: str, read_dictionary: list[str] | None = None
) -> pq.ParquetFile:
    import pyarrow.parquet as pq  # here: with pyarrow's file systems, its import costs start-up 40 ms

    try:
        if isinstance(source, bytes):
            file = pq.ParquetFile(pa.BufferReader(source), read_dictionary=read_dictionary)
        else:
            path = os.fspath(source) if isinstance(source, os.PathLike) else source
            file = pq.ParquetFile(path, read_dictionary=read_dictionary)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        problem = f"not a Parquet file (or a truncated one): {excerpt(first_line(exc), 120, quoted=False)}"
        raise RecordingFormatError(name, problem) from None
    return file


def _check_footer(file: pq.ParquetFile, name: str, columns: list[str] | None) -> None:
    """Refuse a file whose footer declares more than ``MAX_ROWS`` rows, or a column read (of ``columns``, None: all)
    that would decompress to more than ``MAX_COLUMN_BYTES``, before any page is read (pyarrow allocates what the
    file declares)."""
    meta = file.metadata
    groups = [meta.row_group(g) for g in range(meta.num_row_groups)]
    rows = max(meta.num_rows, sum(group.num_rows for group in groups))  # pages are read as their row group says
    if rows > MAX_ROWS:
        raise RecordingFormatError(
            name, f"{rows:,} rows, more than the limit of {MAX_ROWS:,} per Parquet file (split it into several files)"
        )
    schema = file.schema_arrow
    read = [i for i, field in enumerate(schema) if columns is None or field.name in columns]

    def size(leaves: range) -> int:
        return sum(group.column(j).total_uncompressed_size for group in groups for j in leaves)

    # Each top-level column is stored as the leaf columns of its type (a struct of two fields: two).
    leaves = np.cumsum([0, *(_leaves(field.type) for field in schema)])
    if leaves[-1] != meta.num_columns:  # not laid out as its schema says: all the bytes, for all the columns read
        total = size(range(meta.num_columns))
        if total > MAX_COLUMN_BYTES * len(read):
            raise RecordingFormatError(
                name, f"would decompress to {total:,} bytes, more than the limit of {MAX_COLUMN_BYTES:,} per column"
            )
        return
    for i in read:
        declared = size(range(leaves[i], leaves[i + 1]))
        if declared > MAX_COLUMN_BYTES:
            raise RecordingFormatError(
                name,
                f"column {excerpt(schema.field(i).name)} would decompress to {declared:,} bytes, more than the limit "
                f"of {MAX_COLUMN_BYTES:,}",
            )


def _leaves(kind: pa.DataType) -> int:
    return sum(_leaves(kind.field(i).type) for i in range(kind.num_fields)) if kind.num_fields else 1


def read_parquet(source: bytes | str | os.PathLike[str] | BinaryIO, opts: Options) -> Recordings:
    """The recordings of a Parquet file (only the columns scoring needs, unless ``opts.keep_columns``)."""
    file = _open(source, opts.source)
    schema = file.schema_arrow
    names = schema.names
    roles = opts.roles(names)
    _check_types(schema, roles, opts)
    columns = names if opts.keep_columns else [names[i] for i in sorted(roles.used())]
    _check_footer(file, opts.source, columns)
    # Text is read as a dictionary, as it is stored (each value once): a value repeated on every row would otherwise
    # be copied as often (200 KB of a file declare 2 GB of text that way), before _check_text has counted it.
    text = [field.name for field in schema if field.name in columns and _is_text(field.type)]
    if text:
        file = _open(source, opts.source, read_dictionary=text)
    try:
        table = file.read(columns=columns, use_threads=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        problem = f"cannot read the Parquet file: {excerpt(first_line(exc), 120, quoted=False)}"
        raise RecordingFormatError(opts.source, problem) from None
    _check_text(table, opts.source)
    return recordings_of_arrow(table, opts)


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _check_text(table: pa.Table, name: str) -> None:
    """Refuse a column of text read as a dictionary whose values, one per row, would take more than
    ``MAX_COLUMN_BYTES`` (counted from the dictionary's lengths and the indices, nothing copied)."""
    for field, column in zip(table.schema, table.columns, strict=True):
        if not pa.types.is_dictionary(field.type):
            continue
        size = 0
        for chunk in column.chunks:
            lengths = numpy_of(pc.binary_length(chunk.dictionary)).astype(np.int64)
            counts = np.bincount(numpy_of(pc.drop_null(chunk.indices)), minlength=len(lengths))
            size += int(counts @ lengths)
        if size > MAX_COLUMN_BYTES:
            raise RecordingFormatError(
                name,
                f"column {excerpt(field.name)} holds {size:,} bytes of text, more than the limit of "
                f"{MAX_COLUMN_BYTES:,}",
            )


#: What each role's column must hold, and the option that reads another column.
_EXPECTED = {
    "rr": ("numbers", "{rr_column} reads another column"),
    "label": ("labels (0 or 1)", None),
    "time": ("times or numbers", "{time_column} reads another column; {ignore_time} times beats by RR"),
    "id": ("recording ids (text or numbers)", "{id_column} reads another column"),
}


def _check_types(schema: pa.Schema, roles: Roles, opts: Options) -> None:
    """Refuse a column of RR, times, ids or labels holding lists, structs or maps, naming it and its type, before
    it is read (where a value is checked, it would be a Python object per row; where it is cast, an arrow error)."""
    used = {"rr": roles.rr, "time": roles.time if opts.use_time else None, "id": roles.id, "label": roles.label}
    for role, i in used.items():
        if i is None or i < 0:
            continue
        kind = schema.field(i).type
        kind = kind.value_type if pa.types.is_dictionary(kind) else kind
        if pa.types.is_nested(kind):
            what, hint = _EXPECTED[role]
            raise RecordingFormatError(
                opts.source,
                f"column {excerpt(schema.field(i).name)} holds {excerpt(str(kind), 60, quoted=False)} values, not "
                f"{what}",
                hint=hint,
            )


def recordings_of_arrow(table: pa.Table, opts: Options) -> Recordings:
    """The recordings of an Arrow table with named columns (a Parquet file's, or a part of a dataset's)."""
    names = [str(n) for n in table.column_names]
    if len(set(names)) < len(names):
        twice = next(n for n, k in Counter(names).items() if k > 1)
        raise RecordingFormatError(opts.source, f"column {excerpt(twice)} appears twice")
    roles = opts.roles(names)
    _check_types(table.schema, roles, opts)
    if table.num_rows == 0:
        raise RecordingFormatError(opts.source, "no rows")

    def where(col: int, i: int) -> tuple[int | None, str]:
        return None, f"{names[col]}[{i}]"

    for i in sorted(roles.used()):
        column = table.column(i)
        if column.null_count:
            nulls = pc.is_null(column).combine_chunks().to_numpy(zero_copy_only=False)
            raise_at(opts.source, "empty value", partial(where, i), int(np.argmax(nulls)))
    ids = None if roles.id is None else arrow_ids(_as_text(table.column(roles.id)), opts)
    columns: list[np.ndarray | None] = []
    for i in range(len(names)):
        if i == roles.id and ids is not None:
            columns.append(None)  # read through its dictionary: no Python string per row
        elif i == roles.id:
            columns.append(_as_text(table.column(i)).to_numpy())
        elif i in roles.used() or opts.keep_columns:
            columns.append(_values(table.column(i), numbers=i in (roles.rr, roles.label)))
        else:
            columns.append(None)
    return recordings_of(Table(names=names, columns=columns, roles=roles, where=where, ids=ids), opts)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column if pa.types.is_string(column.type) else column.cast(pa.string())


def _values(column: pa.ChunkedArray, *, numbers: bool) -> np.ndarray:
    """A column as NumPy: numbers as float64 (RR and labels), text as objects, dates and times as datetime64."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if numbers and (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        return np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float64)
    if pa.types.is_decimal(kind):
        return np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float64)
    if pa.types.is_time(kind) or pa.types.is_date(kind):
        return np.asarray(column.cast(pa.string()).to_numpy(zero_copy_only=False))  # read as clock times in text
    return np.asarray(column.to_numpy(zero_copy_only=False))
