"""numpy arrays to and from Arrow arrays without pandas.

pyarrow's own conversions (``pa.array``, ``pa.table``, ``Array.to_numpy``, Python scalars in compute calls) import
pandas where it is installed: a third of a second at every start of a command that reads a CSV file and writes one,
where neither needs pandas. Arrays of numbers without missing values are built from and read into their buffers here
instead, and short lists of strings from their UTF-8 bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

#: Arrow types read without a copy, and their numpy types.
_PRIMITIVE = {
    "double": np.float64, "float": np.float32, "int64": np.int64, "int32": np.int32, "int16": np.int16,
    "int8": np.int8, "uint64": np.uint64, "uint32": np.uint32, "uint16": np.uint16, "uint8": np.uint8,
}  # fmt: skip


def numpy_of(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An arrow column as a numpy array (read from its buffer where it holds numbers and nothing is missing)."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    dtype = _PRIMITIVE.get(str(array.type))
    if dtype is None or array.null_count:
        return np.asarray(array.to_numpy(zero_copy_only=False))
    offset = array.offset * np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=offset)


def arrow_numbers(values: NDArray[np.number]) -> pa.Array:
    """An arrow array of numbers sharing the numpy array's buffer (numbers or booleans as int8; none missing)."""
    values = np.ascontiguousarray(values.astype(np.int8) if values.dtype == np.bool_ else values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])


def arrow_strings(texts: Sequence[str]) -> pa.Array:
    """An arrow array of strings (meant for a few: recording ids, not a value per beat)."""
    encoded = [text.encode("utf-8") for text in texts]
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in encoded])]).astype(np.int64)
    return pa.Array.from_buffers(
        pa.large_string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )
