"""Parquet files: the competition columns (``id``, ``time``, ``x`` [, ``y``]) or any columns named as in CSV files,
read by pyarrow, one file at a time (a file of its own, or one partition of a dataset folder).

Parquet is read from files only, never from content a service receives: its reader trusts the sizes a file
declares, so a small upload could claim gigabytes once decompressed. Values go through the same table stage as
every other format (:mod:`~cardiospike.data.formats.table`): the same units, checks and errors. Text columns are
read as text is in CSV (numbers in them parsed, clock times read as such); timestamps are read as dates and times,
in milliseconds since 1970-01-01 UTC. A value is located by its column and row index (``x[12]``).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Options, Recordings
from cardiospike.data.formats.checks import raise_at
from cardiospike.data.formats.columns import Roles, find_roles
from cardiospike.data.formats.table import Table, arrow_ids, recordings_of
from cardiospike.errors import first_line

#: The first (and last) bytes of every Parquet file.
MAGIC = b"PAR1"
#: Extensions of Parquet files: a dataset folder's partitions are its files with these.
SUFFIXES = (".parquet", ".pq")


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
    """The Parquet file of a path, an open file or its bytes; RecordingFormatError naming ``name`` if it is none."""
    try:
        if isinstance(source, bytes):
            return pq.ParquetFile(pa.BufferReader(source))
        return pq.ParquetFile(os.fspath(source) if isinstance(source, os.PathLike) else source)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise RecordingFormatError(name, f"not a Parquet file (or a truncated one): {first_line(exc)}") from None


def parquet_roles(names: list[str], opts: Options) -> Roles:
    """The columns holding RR, times, ids and labels, by their names (or ``--rr-column``, ``--time-column``)."""
    return find_roles(
        names, opts.source, rr_column=opts.rr_column, time_column=opts.time_column, id_column=opts.id_column
    )


def read_parquet(source: bytes | str | os.PathLike[str] | BinaryIO, opts: Options) -> Recordings:
    """The recordings of a Parquet file (only the columns scoring needs, unless ``opts.keep_columns``)."""
    file = parquet_file(source, opts.source)
    names = file.schema_arrow.names
    roles = parquet_roles(names, opts)
    columns = names if opts.keep_columns else [names[i] for i in sorted(roles.used())]
    try:
        table = file.read(columns=columns, use_threads=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise RecordingFormatError(opts.source, f"cannot read the Parquet file: {first_line(exc)}") from None
    return recordings_of_arrow(table, opts)


def recordings_of_arrow(table: pa.Table, opts: Options) -> Recordings:
    """The recordings of an Arrow table with named columns (a Parquet file's, or a part of a dataset's)."""
    names = [str(n) for n in table.column_names]
    if len(set(names)) < len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise RecordingFormatError(opts.source, f"column {twice!r} appears twice")
    roles = parquet_roles(names, opts)
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
