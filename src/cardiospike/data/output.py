"""Writing scored recordings: atomically, never over an input or a non-file, as CSV that spreadsheets never run.

* **Atomic**: the CSV is written to ``<name>.partial-<random>`` beside the target and renamed over it when complete,
  so the target is the old file or the whole new one. The partial file is removed on any error or interrupt; only
  a killed process leaves it, under that visible name.
* **Safe targets**: ``-`` is standard output. A target that is an input, a directory, a device or a pipe is
  refused; a symbolic link is refused unless ``force``, which replaces the file it points to (the link stays).
* **Modes**: a new file gets the usual permissions (the umask decides); a replaced file keeps its mode.
* **Values**: whole-number floats up to 2**53 are written as integers, as the competition files have them, and
  larger ones as the floats they are, so that what is written always equals the value read. Text cells that a
  spreadsheet would evaluate as a formula (starting with ``= + - @``, a tab or a carriage return, and not a
  number) get a leading apostrophe, the OWASP rule against CSV injection.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Union

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
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {target}: permission denied in {folder}")
    return target


#: A table to write: a pandas DataFrame, or columns by name (numpy arrays or lists, one value per row).
Table = Union["pd.DataFrame", Mapping[str, Any]]


def write_csv(table: Table | Iterable[Table], target: Path | None) -> None:
    """Write a table, or the parts of one in order (header once), to ``target`` atomically (see the module
    docstring), or to standard output for None. Parts are written as they come: memory holds one at a time."""
    parts = [table] if _is_table(table) else table
    write_atomic(target, lambda handle: _write_parts(parts, handle))  # type: ignore[arg-type]


def write_text(text: str, target: Path | None) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically, as :func:`write_csv` writes, or to standard output for None."""
    write_atomic(target, lambda handle: handle.write(text.encode("utf-8")))


def write_atomic(target: Path | None, write: Callable[[BinaryIO], object], *, hidden: bool = False) -> None:
    """Call ``write`` with a binary handle on a partial file that replaces ``target`` once complete (or stdout).

    ``hidden``: the partial file is ``.<name>.partial-<random>``, which readers of a dataset folder (pyarrow, Dask,
    Spark) skip, so that a folder being written never shows them half a partition.
    """
    if target is None:
        write(sys.stdout.buffer)
        sys.stdout.flush()
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
        tmp = target.with_name(f"{'.' if hidden else ''}{target.name}.partial-{secrets.token_hex(4)}")
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
    return _csv_bytes(_for_csv(table), header).decode("utf-8")


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping) or hasattr(value, "columns")


def _write_parts(parts: Iterable[Table], handle: BinaryIO) -> None:
    header = True
    for part in parts:
        handle.write(_csv_bytes(_for_csv(part), header))
        header = False


def _csv_bytes(table: dict[str, pa.Array], header: bool) -> bytes:
    """CSV of arrow columns: no quotes where no text needs them (as the competition files), else quoted text."""
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    needs_quotes = any(
        _is_text(column) and pc.any(pc.match_substring_regex(column, r'[",\n\r]')).as_py() for column in table.values()
    )
    sink = pa.BufferOutputStream()
    # Arrow quotes every name of its header: the header is written here, quoted only where a name needs it.
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed" if needs_quotes else "none")
    pacsv.write_csv(pa.Table.from_arrays(list(table.values()), names=list(table)), sink, options)
    names = ",".join(_quoted(name) for name in table) + "\n" if header else ""
    return names.encode() + bytes(sink.getvalue())


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n\r') else name


def _is_text(column: pa.Array) -> bool:
    return bool(pa.types.is_string(column.type) or pa.types.is_large_string(column.type))


def _for_csv(table: Table) -> dict[str, pa.Array]:
    """The columns as they are written: whole-number floats as integers where exact, formula-like text neutralised."""
    if hasattr(table, "columns") and not isinstance(table, Mapping):  # a pandas DataFrame
        table = {str(name): table[name].to_numpy() for name in table.columns}
    return {name: _column(values) for name, values in table.items()}


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
