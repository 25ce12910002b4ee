"""NumPy ``.npy`` arrays, as ``np.save`` writes them: RR (one dimension), time and RR (two columns), or a structured
array whose field names say which holds RR. Object arrays are refused (reading them would run pickled code).

Hostile files. ``np.load`` allocates the array its header declares before reading a byte of it (a 192-byte file
claiming 10^13 values asks for 73 TiB). The header is therefore read first (by NumPy's own header reader, so both
read the same shape), and the array loaded only where its values are of plain number types (fields: numbers or
text), and its shape times the size of a value is exactly the number of bytes after the header.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.columns import Roles
from cardiospike.data.formats.table import Table, recordings_of

MAGIC = b"\x93NUMPY"


def read_npy(content: Content, opts: Options) -> Recordings:
    check_npy(content.raw, opts.source)
    try:
        # Still without pickles: whatever the check above lets through, no object array is ever built from a file.
        array = np.load(io.BytesIO(content.raw), allow_pickle=False)
    except Exception as exc:  # checked above; NumPy's header reader may still refuse what it reads differently
        raise RecordingFormatError(opts.source, f"not a .npy array ({type(exc).__name__})") from None
    if array.dtype.names:
        names = list(array.dtype.names)
        columns = [_text(np.asarray(array[name]).ravel(), name, opts.source) for name in names]
        roles = opts.roles(names)
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


def check_npy(raw: bytes, source: str, size: int | None = None) -> None:
    """Refuse a ``.npy`` file whose array is not of plain numbers, or whose header declares other than its bytes.

    ``raw`` is the whole file, or with ``size`` (the file's size in bytes) its start, header included: a file's
    header is then checked without reading the array."""
    fp = io.BytesIO(raw)
    try:
        with warnings.catch_warnings():  # headers written by Python 2 are read with a warning
            warnings.simplefilter("ignore")
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
            elif version in ((2, 0), (3, 0)):  # 3.0: 2.0 with a UTF-8 header, the same but for names of fields
                shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise RecordingFormatError(source, f"not a .npy array (format version {version[0]}.{version[1]})")
    except RecordingFormatError:
        raise
    except Exception as exc:  # ValueError mostly; a header is a Python literal, which may fail in other ways
        raise RecordingFormatError(source, f"not a .npy array: a malformed header ({type(exc).__name__})") from None
    if dtype.hasobject:
        raise RecordingFormatError(source, "an array of Python objects, which is not read")
    if dtype.names is None and (dtype.kind not in "biuf" or dtype.subdtype is not None):
        raise RecordingFormatError(source, f"an array of {dtype.str}, not of numbers")
    fields = [spec[0] for spec in (dtype.fields or {}).values()]
    if dtype.names is not None and not (fields and all(_plain_field(field) for field in fields)):
        raise RecordingFormatError(source, "an array of records whose fields are not all numbers or text")
    if any(size < 0 for size in shape):
        raise RecordingFormatError(source, "not a .npy array: a negative size in its shape")
    # In Python integers: NumPy's own product of the shape wraps around in 64 bits.
    declared, held = math.prod(shape) * dtype.itemsize, (len(raw) if size is None else size) - fp.tell()
    if declared != held:
        more = "more bytes than the file holds (cut short?)" if declared > held else "fewer bytes than the file holds"
        raise RecordingFormatError(source, f"not a .npy array: its header declares {more}")


def _plain_field(dtype: np.dtype) -> bool:
    return dtype.names is None and dtype.subdtype is None and dtype.kind in "biufSU" and dtype.itemsize > 0


def _text(column: np.ndarray, name: str, source: str) -> np.ndarray:
    """A text field as valid text (numbers as they are): a file's bytes may hold what no string can.

    ``U`` holds code points as 32-bit integers, any of them: one past U+10FFFF or a surrogate makes no Python string.
    ``S`` holds bytes: read as ASCII (any other byte would make ids no text), as NumPy converts them.
    """
    if column.dtype.kind == "U":
        points = np.ascontiguousarray(column).view(np.dtype(column.dtype.byteorder + "u4"))
        if np.any((points > 0x10FFFF) | ((points >= 0xD800) & (points <= 0xDFFF))):
            raise RecordingFormatError(source, "text that is no Unicode", field=name)
    elif column.dtype.kind == "S":
        if np.any(np.frombuffer(column.tobytes(), dtype=np.uint8) > 0x7F):
            raise RecordingFormatError(source, "text of bytes that are not ASCII", field=name)
        column = column.astype(f"U{column.dtype.itemsize}")
    return column
