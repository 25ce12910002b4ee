"""Writing scored recordings: atomically, never over an input or a non-file, as CSV that spreadsheets never run.

* **Atomic**: the CSV is written to ``<name>.partial-<random>`` beside the target and renamed over it when complete,
  so the target is the old file or the whole new one. The partial file is removed on any error or interrupt; only
  a killed process leaves it, under that visible name.
* **Safe targets**: ``-`` is standard output. A target that is an input, a directory, a device or a pipe is
  refused; a symbolic link is refused unless ``force``, which replaces the file it points to (the link stays). A
  file's folder must exist: a mistyped path is an error, not a tree of new folders (only a dataset's partitions,
  :func:`write_atomic` with ``parents``, make their folders).
* **Formats** (:func:`output_format`, by the extension): ``.csv``, ``.tsv`` (tab-separated, else as CSV), ``.json``
  (a list of one object per recording: its ``id`` and, per column, a list of one value per beat), ``.ndjson`` or
  ``.jsonl`` (those objects one per line), ``.parquet`` or ``.pq``; any other name is refused, so that no file is
  written in a format its name does not say.
* **Modes**: a new file gets the usual permissions (the umask decides); a replaced file keeps its mode.
* **Values**: whole-number floats up to 2**53 are written as integers, as the competition files have them, and
  larger ones as the floats they are, so that what is written always equals the value read. Text cells that a
  spreadsheet would evaluate as a formula (starting with ``= + - @``, a tab or a carriage return, and not a
  number) get a leading apostrophe, the OWASP rule against CSV injection.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Union

import numpy as np
import pyarrow as pa

from cardiospike.data.arrow import arrow_numbers

if TYPE_CHECKING:
    import pandas as pd

#: The path that means standard output.
STDOUT = "-"
#: Whole numbers up to this are exact in float64 and in int64.
_EXACT_INT = 2.0**53


class OutputError(ValueError):
    """An output that cannot or must not be written; the message says which and why, on one line."""


class OutputPathError(OutputError):
    """An output path that names no file this package can write (a folder that does not exist, an extension of no
    format it writes): the message is about the path as given, so a command line prefixes the option that gave it."""


#: The formats an output file is written in.
OutputFormat = Literal["csv", "tsv", "json", "ndjson", "parquet"]
#: Each format by the extensions that name it (compared without regard to case).
OUTPUT_FORMATS: dict[str, OutputFormat] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".parquet": "parquet",
    ".pq": "parquet",
}
#: The field separator of each delimited format.
DELIMITERS = {"csv": ",", "tsv": "\t"}


def output_format(path: str | os.PathLike[str]) -> OutputFormat:
    """The format of an output file by its extension (``-``, standard output: CSV).

    Raises :class:`OutputPathError` for another extension, or none, listing those that are written.
    """
    if str(path) == STDOUT:
        return "csv"
    suffix = Path(path).suffix.lower()
    if suffix in OUTPUT_FORMATS:
        return OUTPUT_FORMATS[suffix]
    what = f"files named {suffix}" if suffix else f"{Path(path).name} (a name without an extension)"
    raise OutputPathError(
        f"cannot tell which format to write for {what}: name the output {', '.join(OUTPUT_FORMATS)} (or - for CSV "
        "on standard output)"
    )


def output_target(
    path: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]] = (), *, force: bool = False
) -> Path | None:
    """The file to write for ``path`` (None for standard output), after refusing targets that must not be replaced.

    ``inputs`` are the files read: writing over one would destroy what was scored.
    """
    if str(path) == STDOUT:
        return None
    target = Path(path)
    if target.is_symlink():
        if not force:
            raise OutputError(
                f"{target} is a symbolic link: give the file itself, or --force to replace the file it points to"
            )
        target = target.resolve()
    if target.exists():
        if not target.is_file():
            raise OutputError(
                f"{target} is not a regular file (a folder, device or pipe): write to a file, or to standard output "
                "with -o -"
            )
        for source in inputs:
            if Path(source).exists() and os.path.samefile(source, target):
                raise OutputError(f"{target} is the input file {source}: write the output to another file")
    # Found before any work is done: the nearest existing folder must be one this process can write in.
    folder = next(p for p in target.absolute().parents if p.exists())
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: {folder} is not a folder")
    if folder != target.absolute().parent:  # a mistyped folder would otherwise be made, and the file lost in it
        raise OutputPathError(f"folder {target.parent} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {target}: permission denied in {folder}")
    return target


#: A table to write: a pandas DataFrame, or columns by name (numpy arrays or lists, one value per row).
Table = Union["pd.DataFrame", Mapping[str, Any]]


def write_csv(table: Table | Iterable[Table], target: Path | None, *, delimiter: str = ",") -> None:
    """Write a table, or the parts of one in order (header once), to ``target`` atomically (see the module
    docstring), or to standard output for None. Parts are written as they come: memory holds one at a time.

    ``delimiter``: ``","``, or ``"\\t"`` for tab-separated values.
    """
    parts = [table] if _is_table(table) else table
    write_atomic(target, lambda handle: _write_parts(parts, handle, delimiter))  # type: ignore[arg-type]


#: One part of a JSON output: the recordings' ids (text, or integers: see :func:`integer_ids`), their beats, and the
#: columns of those beats (the ids' column left out), laid end to end.
JsonPart = tuple[Sequence[str | int], Sequence[int], Table]


def write_json(parts: Iterable[JsonPart], target: Path | None, *, lines: bool = False) -> None:
    """Write recordings as JSON to ``target`` atomically (or to standard output for None): a list of one object per
    recording, ``{"id": ..., "time": [...], "x": [...], ...}`` with a list of one value per beat for each column; with
    ``lines``, those objects one per line (NDJSON). Parts are written as they come.

    Values are written as in CSV (whole-number floats as integers where exact) and as JSON has them: a missing or
    non-finite number is ``null``, dates and times are ISO 8601 text; text is not neutralised (JSON is run by no
    spreadsheet). The package's JSON and NDJSON readers read such a file back.
    """

    def write(handle: BinaryIO) -> None:
        first = True
        handle.write(b"" if lines else b"[")
        for ids, lengths, table in parts:
            columns = {name: _json_column(values) for name, values in _table_columns(table).items()}
            start = 0
            for rec_id, n in zip(ids, lengths, strict=True):  # one object per recording; its values in C
                obj = {"id": rec_id, **{name: values[start : start + n].tolist() for name, values in columns.items()}}
                text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str)
                handle.write((text + "\n" if lines else ("\n" if first else ",\n") + text).encode("utf-8"))
                first, start = False, start + n
        handle.write(b"" if lines else b"\n]\n" if not first else b"]\n")

    write_atomic(target, write)


#: A recording id that is a whole number as a number's text would be written: no sign but ``-``, no leading zero.
_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]{0,18}")


def integer_ids(ids: Sequence[str]) -> list[int] | None:
    """The recordings' ids as integers where every one is a whole number written as a number is (``12``, ``-3``;
    not ``012``, ``+3`` or ``1.0``, whose text an integer would lose) within int64; else None.

    An input's integer ids are read as text (:attr:`~cardiospike.recording.Recording.id`); a typed output (Parquet,
    JSON) writes them as integers again, so that its scores join back onto the input's rows.
    """
    if not all(_CANONICAL_INT.fullmatch(i) for i in ids):
        return None
    numbers = [int(i) for i in ids]
    return numbers if all(-(2**63) <= n < 2**63 for n in numbers) else None


def write_text(text: str, target: Path | None) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically, as :func:`write_csv` writes, or to standard output for None."""
    write_atomic(target, lambda handle: handle.write(text.encode("utf-8")))


def write_atomic(
    target: Path | None,
    write: Callable[[BinaryIO], object],
    *,
    hidden: bool = False,
    parents: bool = False,
    tag: str = "",
) -> None:
    """Call ``write`` with a binary handle on a partial file that replaces ``target`` once complete (or stdout).

    ``hidden``: the partial file is ``.<name>.partial-<random>``, which readers of a dataset folder (pyarrow, Dask,
    Spark) skip, so that a folder being written never shows them half a partition. ``parents``: make the folders
    the target lies in (a dataset's partitions, at their relative paths); else its folder must exist. ``tag`` goes
    before the random part (``.<name>.partial-<tag><random>``): a dataset run's own token, so that what a killed
    writer leaves is known as that run's, not by a pattern any file could match.
    """
    if target is None:
        write(sys.stdout.buffer)
        sys.stdout.flush()
        return
    try:
        if parents:
            target.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
        tmp = target.with_name(f"{'.' if hidden else ''}{target.name}.partial-{tag}{secrets.token_hex(4)}")
        # os.open with 0o666 lets the umask decide the permissions of a new file, as for any file a user creates.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def parquet_bytes(frame: pd.DataFrame, metadata: dict[str, str] | None = None) -> bytes:
    """``frame`` as the bytes of a Parquet file, with ``metadata`` added to its schema's key-value metadata.

    Values keep their types (Parquet is no spreadsheet text: nothing in it is run as a formula).
    """
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}}
        )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def write_csv_atomic(table: Table, path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Write ``table`` as CSV to ``path`` (``-``: standard output) atomically, refusing unsafe targets."""
    write_csv(table, output_target(path, force=force))


def csv_text(table: Table, *, header: bool = True) -> str:
    """The CSV text of ``table`` as files are written (for answers streamed piece by piece)."""
    return _csv_bytes(_for_csv(table), header, ",").decode("utf-8")


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping) or hasattr(value, "columns")


def _write_parts(parts: Iterable[Table], handle: BinaryIO, delimiter: str) -> None:
    header = True
    for part in parts:
        handle.write(_csv_bytes(_for_csv(part), header, delimiter))
        header = False


def _csv_bytes(table: dict[str, pa.Array], header: bool, delimiter: str) -> bytes:
    """CSV of arrow columns: no quotes where no text needs them (as the competition files), else quoted text."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    special = "[" + re.escape(delimiter + '"') + "\\n\\r]"
    needs_quotes = any(
        _is_text(column) and pc.any(pc.match_substring_regex(column, special)).as_py() for column in table.values()
    )
    sink = pa.BufferOutputStream()
    # Arrow quotes every name of its header: the header is written here, quoted only where a name needs it.
    options = pacsv.WriteOptions(
        include_header=False, quoting_style="needed" if needs_quotes else "none", delimiter=delimiter
    )
    pacsv.write_csv(pa.Table.from_arrays(list(table.values()), names=list(table)), sink, options)
    names = delimiter.join(_quoted(name, delimiter) for name in table) + "\n" if header else ""
    return names.encode() + bytes(sink.getvalue())


def _quoted(name: str, delimiter: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in delimiter + '"\n\r') else name


def _is_text(column: pa.Array) -> bool:
    return bool(pa.types.is_string(column.type) or pa.types.is_large_string(column.type))


def _table_columns(table: Table) -> Mapping[str, Any]:
    """The columns of a table by name (a DataFrame's as numpy arrays)."""
    if hasattr(table, "columns") and not isinstance(table, Mapping):  # a pandas DataFrame
        return {str(name): table[name].to_numpy() for name in table.columns}
    return table


def _for_csv(table: Table) -> dict[str, pa.Array]:
    """The columns as they are written: whole-number floats as integers where exact, formula-like text neutralised."""
    return {name: _column(values) for name, values in _table_columns(table).items()}


def _json_column(values: Any) -> np.ndarray:
    """A column as values JSON writes (``.tolist()`` of a slice): numbers as in CSV, missing values None."""
    if isinstance(values, pa.Array):
        values = values.to_numpy(zero_copy_only=False)  # integers with nulls: floats with NaN
    values = np.asarray(values)
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        known = values[finite]
        if (np.abs(known) < _EXACT_INT).all() and (known == np.round(known)).all():
            return _none_where(np.where(finite, values, 0.0).astype(np.int64), ~finite)
        return _none_where(values, ~finite)
    if values.dtype.kind in "biu":
        return values
    if values.dtype.kind == "M":
        return _none_where(np.datetime_as_string(values), np.isnat(values))
    try:
        missing = np.asarray(values != values, dtype=bool)  # NaN, a missing value read, is unequal to itself
    except (TypeError, ValueError):  # pandas' NA, whose truth is undefined: leave the values to json's default
        return values
    return _none_where(values, missing)


def _none_where(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """``values``, None where ``missing`` (an object array then; the values themselves where none is)."""
    if not missing.any():
        return values
    out = values.astype(object)
    out[missing] = None
    return out


def _column(values: Any) -> pa.Array:
    if isinstance(values, pa.Array):
        return neutralise_formulas(values) if _is_text(values) else values
    values = np.asarray(values)
    if values.dtype.kind == "f":
        whole = np.isfinite(values).all() and (np.abs(values) < _EXACT_INT).all() and (values == np.round(values)).all()
        return arrow_numbers(values.astype(np.int64) if whole else values)
    if values.dtype.kind in "biu":
        return arrow_numbers(values)
    # Text (or values of mixed types) from a DataFrame of the input's other columns: pandas is loaded already.
    try:
        text = pa.array(values, type=pa.string(), from_pandas=True)  # NaN and None: empty cells
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = pa.array([None if v is None or v != v else str(v) for v in values], pa.string())
    return neutralise_formulas(text)


#: A number as text (``-5``, ``1.5e3``): such a cell is a number to a spreadsheet too, not a formula.
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def neutralise_formulas(text: pa.Array) -> pa.Array:
    """Prefix with ``'`` the text cells a spreadsheet would evaluate as formulas (numbers such as ``-5`` stay)."""
    import pyarrow.compute as pc

    risky = pc.and_(pc.match_substring_regex(text, "^[=+\\-@\t\r]"), pc.invert(pc.match_substring_regex(text, _NUMBER)))
    if not pc.any(risky).as_py():
        return text
    return pc.if_else(risky, pc.utf8_replace_slice(text, 0, 0, "'"), text)
