"""Reading RR recordings: the entry points, which sniff an input's format and hand it to its reader.

The readers (one per format) live in :mod:`cardiospike.data.formats`; they share one table stage that converts
units, checks every value and splits beats into recordings (``formats/table.py``). The rules, for every format:

* RR from 0 to :data:`~cardiospike.recording.MAX_RR_MS` are read; 0 and other values outside the physiological range
  are kept (flagged later as measurement errors); negative or non-finite values, and values above the bound, are
  refused. Units: ``unit="auto"`` reads seconds where a header names them (``RR (s)``, ``rr_s``) or where the median
  RR is below 10, milliseconds otherwise; ``ms`` or ``s`` decides.
* Without times, beats are timed by the cumulative sum of RR (the first at 0); times must increase within a
  recording, and a recording's rows must be together.
* Limits: an input file holds at most :data:`MAX_INPUT_BYTES` bytes, a CSV header or a line of text at most
  :data:`~cardiospike.data.formats.MAX_COLUMNS` columns (a row of RR any number), an HRM line at most
  :data:`~cardiospike.data.formats.hrm.MAX_COLUMNS` fields, a JSON object at most
  :data:`~cardiospike.data.formats.jsondoc.MAX_KEYS` keys (none twice), a Parquet file at most
  :data:`~cardiospike.data.formats.parquet.MAX_ROWS` rows and
  :data:`~cardiospike.data.formats.parquet.MAX_COLUMN_BYTES` bytes per column read once decompressed (from its
  footer, before any column is read); ``max_recordings`` is checked before any per-recording work. Each is checked
  before the work it bounds, so that no input holds a reader for long.

Errors name the source, line and field; the value found there is kept apart (:attr:`RecordingFormatError.value`),
so a service can answer with the place and the problem without echoing the content of a request; what a message
shows of the input is a short excerpt, whatever the input holds. They also say which format the input was taken for,
and how it was decided. Any other exception a reader lets escape becomes a RecordingFormatError naming its type alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from cardiospike.data.coerce import mostly_errors_warning
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats import (
    MAX_COLUMNS,
    READERS,
    Content,
    Options,
    Recordings,
    path_format,
    sniff,
    with_samples,
)
from cardiospike.data.formats.checks import excerpt
from cardiospike.data.formats.parquet import MAGIC as PARQUET_MAGIC
from cardiospike.data.formats.parquet import SUFFIXES, is_parquet, read_parquet
from cardiospike.recording import FILE_FORMATS, FORMATS, ID, LABEL, RR, TIME, Format, Recording, Unit

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_COLUMNS",
    "MAX_INPUT_BYTES",
    "Format",
    "RecordingFormatError",
    "Recordings",
    "detect_format",
    "parse_recordings",
    "read_recordings",
    "recordings_to_frame",
]

#: Largest input file the readers accept (bytes).
MAX_INPUT_BYTES = 256 * 1024 * 1024


def read_recordings(
    path: str | os.PathLike[str],
    fmt: Format = "auto",
    *,
    use_time: bool = True,
    max_recordings: int | None = None,
    unit: Unit = "auto",
    rr_column: str | None = None,
    time_column: str | None = None,
    id_column: str | None = None,
    keep_columns: bool = False,
    sampling_rate: float | None = None,
    ecg_channel: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Recordings:
    """Read every recording in a file; the parameters are those of :func:`parse_recordings`.

    The recording id, where the file names none, is the file's name without its extension. Files may also be
    Parquet (``fmt="parquet"``, or sniffed from the extension ``.parquet``/``.pq`` or the content), which
    :func:`parse_recordings` does not read. ECG records (a WFDB record's signal, given by its header or its ``.dat``,
    EDF, a ``.npy`` of samples) are read from the file piece by piece, whatever their size (within
    :data:`~cardiospike.data.ecg.MAX_SAMPLES` samples); ``progress`` is then called with the samples done and the
    samples in all as beats are detected.
    """
    p = Path(path)
    if not p.is_file():
        raise RecordingFormatError(str(p), "no such file")
    size = p.stat().st_size
    opts = Options(
        source=str(p),
        default_id=p.stem,
        use_time=use_time,
        unit=unit,
        rr_column=rr_column,
        time_column=time_column,
        id_column=id_column,
        max_recordings=max_recordings,
        keep_columns=keep_columns,
        path=p,
        sampling_rate=sampling_rate,
        ecg_channel=ecg_channel,
        progress=progress,
    )
    suffix = p.suffix.lower()
    if fmt == "parquet" or (fmt == "auto" and is_parquet(p)):
        named = suffix in SUFFIXES
        why = "as asked" if fmt == "parquet" else f"from the extension {suffix}" if named else "from the content"
        return _read_path("parquet", why, opts, partial(read_parquet, p))
    ecg = path_format(p, fmt, sampling_rate)
    if ecg is not None:
        named = suffix in (".edf", ".dat")
        why = "as asked" if fmt != "auto" else f"from the extension {suffix}" if named else "from the content"
        if ecg == "ecg" and fmt != "ecg":  # a .npy given a sampling rate, as parse_recordings says it
            why += ", as samples at the sampling rate given"
        reader = READERS[ecg]
        read = partial(reader.read, None)  # type: ignore[arg-type]  # the ECG readers read the path, not content
        return _read_path(ecg, why, replace(opts, fixed_unit=reader.fixed_unit), read)
    if size > MAX_INPUT_BYTES:
        raise RecordingFormatError(str(p), f"file is {size} bytes, more than the limit of {MAX_INPUT_BYTES}")
    return _parse(p.read_bytes(), fmt, opts)


def _read_path(name: str, why: str, opts: Options, read: Callable[[Options], Recordings]) -> Recordings:
    """A file its reader reads from its path (Parquet; ECG records, piece by piece), as :func:`_parse` reads bytes:
    the format taken and why, and a malformed file's error named so."""
    taken_as = f"read as {name}, {why}"
    try:
        recordings = read(opts)
    except Exception as exc:  # a RecordingFormatError, or any other error on a malformed file (see _malformed)
        raise _malformed(opts.source, name, exc).read_as(taken_as) from None
    recordings.format, recordings.taken_as = name, taken_as
    return _with_doubts(recordings)


def parse_recordings(
    content: str | bytes,
    *,
    source: str = "<input>",
    fmt: Format = "auto",
    default_id: str = "recording",
    use_time: bool = True,
    max_recordings: int | None = None,
    unit: Unit = "auto",
    rr_column: str | None = None,
    time_column: str | None = None,
    id_column: str | None = None,
    keep_columns: bool = False,
    sampling_rate: float | None = None,
    ecg_channel: str | None = None,
) -> Recordings:
    """Parse recordings from the content of a file.

    Parameters
    ----------
    content : str or bytes
        The file's content: text in UTF-8 (with or without a byte order mark) or UTF-16 with one, any line ends;
        or the bytes of a binary format (``.npy``, FIT, a WFDB annotation).
    source : str
        Name used in error messages (a path, an upload's file name); its extension helps sniffing.
    fmt : {"auto", "csv", "text", "hrm", "json", "ndjson", "npy", "fit", "wfdb", "edf", "ecg"}
        Input format; ``auto`` decides from binary signatures, then the extension, then the content. ``edf`` and
        ``ecg`` (samples) are ECG, and so is ``wfdb`` given a record's signal: beats are detected in it.
    default_id : str
        Recording id where the input does not name one.
    use_time : bool
        Read the input's times; when False, time beats by the cumulative sum of RR instead.
    max_recordings : int, optional
        Refuse an input of more recordings than this (checked before they are built).
    unit : {"auto", "ms", "s"}
        Unit of RR: ``auto`` takes the unit a header names, else seconds where the median RR is below 10.
        Formats that define their unit (HRM, FIT, WFDB) ignore it.
    rr_column, time_column, id_column : str, optional
        The column (or JSON key) holding RR, times and recording ids, by name or by number from 1, where the names
        do not say.
    keep_columns : bool
        Keep the input's other columns (:attr:`Recordings.extra`), to write them beside the scores; of an ECG, each
        beat's ``sample`` and signal ``quality``.
    sampling_rate : float, optional
        Read a CSV, text or ``.npy`` input as ECG samples at this rate (Hz): heart beats are detected and read as
        RR. Without it such an input is RR. EDF and WFDB records give their own.
    ecg_channel : str, optional
        The channel of an ECG record of several, by name or number from 1 (default: the first named as an ECG lead).

    Returns
    -------
    Recordings
        The recordings in input order (a list), with the format they were read as, the unit of RR, and warnings
        about what may be read wrongly (:attr:`Recordings.warnings`: a column of ids not read as ids, recordings
        that are mostly measurement errors).
    """
    opts = Options(
        source=source,
        default_id=default_id,
        use_time=use_time,
        unit=unit,
        rr_column=rr_column,
        time_column=time_column,
        id_column=id_column,
        max_recordings=max_recordings,
        keep_columns=keep_columns,
        sampling_rate=sampling_rate,
        ecg_channel=ecg_channel,
    )
    return _parse(content, fmt, opts)


def _parse(content: str | bytes, fmt: str, opts: Options) -> Recordings:
    source = opts.source
    if fmt in FILE_FORMATS or (fmt == "auto" and isinstance(content, bytes) and content.startswith(PARQUET_MAGIC)):
        raise RecordingFormatError(
            source, "a Parquet file, which is read from files only (read_recordings, cardiospike predict)"
        )
    if fmt not in FORMATS:
        raise RecordingFormatError(source, f"unknown format {excerpt(fmt)}; expected one of {', '.join(FORMATS)}")
    data = Content(content, source)
    if not data.raw or data.raw.isspace():  # no stripped copy of the whole input
        raise RecordingFormatError(source, "file is empty")
    try:
        name, why = (fmt, "as asked") if fmt != "auto" else sniff(data, source)
    except Exception as exc:  # sniffing reads the start of the content, as a reader would
        raise _malformed(source, None, exc) from None
    if with_samples(name, fmt, opts.sampling_rate) != name:
        name, why = "ecg", f"{why}, as samples at the sampling rate given"
    reader = READERS[name]
    taken_as = f"read as {name}, {why}"
    try:
        if not reader.binary and not data.head().strip():
            raise RecordingFormatError(source, "file is empty")
        recordings = reader.read(data, replace(opts, fixed_unit=reader.fixed_unit))
    except Exception as exc:  # a RecordingFormatError, or any other error on a malformed input (see _malformed)
        error = _malformed(source, name, exc)
        if fmt == "auto" and error.structural and error.hint is None:
            other = _OTHER.get(name, "csv")
            taken_as += f"; {{format={other}}} reads it as {other}"
        raise error.read_as(taken_as) from None
    recordings.format, recordings.taken_as = name, taken_as
    return _with_doubts(recordings)


def _malformed(source: str, fmt: str | None, exc: Exception) -> RecordingFormatError:
    """Every error of a reader as a RecordingFormatError: one it raised itself, or any other Exception that escaped
    it on input it did not expect (a library's ValueError, IndexError, struct.error, OverflowError, UnicodeError,
    pyarrow's errors, RecursionError, a MemoryError for a size the input declares ...). Such an error is named by its
    type alone: its message may quote the input. KeyboardInterrupt and SystemExit are no Exception: they go on."""
    if isinstance(exc, RecordingFormatError):
        return exc
    kind = type(exc).__name__
    return RecordingFormatError(
        source, f"cannot be read{f' as {fmt}' if fmt else ''}: malformed input ({kind})", structural=True
    )


def _with_doubts(recordings: Recordings) -> Recordings:
    doubt = mostly_errors_warning(recordings)
    if doubt is not None:
        recordings.warnings = (*recordings.warnings, doubt)
    return recordings


#: The format a file taken for another is most often meant as (where its error is structural).
_OTHER = {"csv": "text", "text": "csv", "json": "ndjson", "ndjson": "json"}


def detect_format(content: str | bytes, source: str = "") -> Format:
    """The format ``auto`` reads an input as (from binary signatures, the extension, then the content)."""
    return cast(Format, sniff(Content(content, source), source)[0])


def recordings_to_frame(recordings: Sequence[Recording]) -> pd.DataFrame:
    """Stack recordings into one frame in the competition format (``id,time,x[,y]``)."""
    import pandas as pd  # here, not at import: the fast readers need none of it (it takes 0.3 s to import)

    frame = pd.DataFrame(
        {
            ID: np.repeat([r.id for r in recordings], [len(r) for r in recordings]),
            TIME: np.concatenate([r.time for r in recordings]),
            RR: np.concatenate([r.rr for r in recordings]),
        }
    )
    if recordings and all(r.labels is not None for r in recordings):
        frame[LABEL] = np.concatenate([r.labels for r in recordings if r.labels is not None])
    return frame
