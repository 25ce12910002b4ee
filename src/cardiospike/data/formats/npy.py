"""NumPy ``.npy`` arrays, as ``np.save`` writes them: RR (one dimension), time and RR (two columns), or a structured
array whose field names say which holds RR. Object arrays are refused (reading them would run pickled code)."""

from __future__ import annotations

import io

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles, find_roles
from cardiospike.data.formats.table import Table, recordings_of

MAGIC = b"\x93NUMPY"


def read_npy(content: Content, opts: Options) -> Recordings:
    try:
        array = np.load(io.BytesIO(content.raw), allow_pickle=False)
    except ValueError as exc:
        problem = "an array of Python objects, which is not read" if "pickle" in str(exc) else "not a .npy array"
        raise RecordingFormatError(opts.source, problem) from None
    except (OSError, EOFError):
        raise RecordingFormatError(opts.source, "not a .npy array (or a truncated one)") from None
    if array.dtype.names:
        names = list(array.dtype.names)
        columns = [np.asarray(array[name]).ravel() for name in names]
        roles = find_roles(
            names, opts.source, rr_column=opts.rr_column, time_column=opts.time_column, id_column=opts.id_column
        )
    else:
        if array.ndim == 2 and array.shape[0] in (1, 2) and array.shape[1] > 2:
            array = array.T  # rows written as columns
        if array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1):
            names, columns, roles = ["rr"], [array.reshape(-1)], Roles(rr=0)
        elif array.ndim == 2 and array.shape[1] == 2:
            names, columns, roles = ["time", "rr"], [array[:, 0], array[:, 1]], Roles(rr=1, time=0)
        else:
            raise RecordingFormatError(
                opts.source, f"an array of shape {array.shape}: expected RR, or two columns (time, RR)"
            )
    numbers = {i for i in (roles.rr, roles.time, roles.label) if i is not None}
    if any(c.dtype.kind not in "fiub" for i, c in enumerate(columns) if i in numbers):
        raise RecordingFormatError(opts.source, f"an array of {array.dtype}, not of numbers")
    if columns[roles.rr].size == 0:
        raise RecordingFormatError(opts.source, "empty recording: no RR values", structural=True)
    plain = array.dtype.names is None
    table = Table(
        names=names,
        columns=[c if c.dtype.kind != "b" else c.astype(np.float64) for c in columns],
        roles=roles,
        where=lambda col, i: (
            None,
            (f"[{i}, {col}]" if len(names) == 2 else f"[{i}]") if plain else f"{names[col]}[{i}]",
        ),
    )
    return recordings_of(table, opts)
