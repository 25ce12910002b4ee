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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

#: The path that means standard output.
STDOUT = "-"
#: Whole numbers up to this are exact in float64 and in int64.
_EXACT_INT = 2.0**53
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def write_csv(frame: pd.DataFrame, target: Path | None) -> None:
    """Write ``frame`` to ``target`` atomically (see the module docstring), or to standard output for None."""
    write_atomic(target, lambda handle: _to_csv(frame, handle))


def write_text(text: str, target: Path | None) -> None:
    """Write ``text`` (UTF-8) to ``target`` atomically, as :func:`write_csv` writes, or to standard output for None."""
    write_atomic(target, lambda handle: handle.write(text))


def write_atomic(target: Path | None, write: Callable[[TextIO], object]) -> None:
    """Call ``write`` with a text handle on a partial file that replaces ``target`` once complete (or on stdout)."""
    if target is None:
        write(sys.stdout)
        sys.stdout.flush()
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
        tmp = target.with_name(f"{target.name}.partial-{secrets.token_hex(4)}")
        # os.open with 0o666 lets the umask decide the permissions of a new file, as for any file a user creates.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
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


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike[str], *, force: bool = False) -> None:
    """Write ``frame`` as CSV to ``path`` (``-``: standard output) atomically, refusing unsafe targets."""
    write_csv(frame, output_target(path, force=force))


def csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """The CSV text of ``frame`` as files are written (for answers streamed piece by piece)."""
    return str(_for_csv(frame).to_csv(index=False, header=header, lineterminator="\n"))


def _to_csv(frame: pd.DataFrame, handle: TextIO) -> None:
    _for_csv(frame).to_csv(handle, index=False, lineterminator="\n")


def _for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if col.dtype.kind == "f":
            values = col.to_numpy()
            if np.isfinite(values).all() and (np.abs(values) < _EXACT_INT).all() and (values == np.round(values)).all():
                out[name] = col.astype(np.int64)
        elif col.dtype.kind in "OUT" or isinstance(col.dtype, pd.StringDtype):
            out[name] = neutralise_formulas(col)
    return out


def neutralise_formulas(values: pd.Series) -> pd.Series:
    """Prefix with ``'`` the text cells a spreadsheet would evaluate as formulas (numbers such as ``-5`` stay)."""
    text = values.astype("string")
    risky = text.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
    if not risky.any():
        return values
    numeric = np.isfinite(pd.to_numeric(text[risky], errors="coerce").to_numpy(dtype=np.float64))
    hits = np.flatnonzero(risky)[~numeric]
    if hits.size == 0:
        return values
    out = values.astype(object).copy()
    out.iloc[hits] = "'" + text.iloc[hits].astype(object)
    return out
