"""ECG records: a PhysioNet WFDB record's signal (``100.hea`` with ``100.dat``), EDF/EDF+ (``.edf``), and ECG samples
in a CSV, text or ``.npy`` file at a given sampling rate. Heart beats are detected in one channel
(:mod:`cardiospike.data.ecg`) and read as RR: one beat per row, timed at its sample, the sample and the beat's
signal quality kept as columns of their own.

How an ECG file is told from RR. EDF by its signature (a header starting ``0`` and eight spaces) or its extension;
a WFDB signal by its header (``.hea``) with no annotation file beside it, or by its signal file (``.dat``) being
given; a CSV, text or ``.npy`` file only where a sampling rate is given (``sampling_rate``, ``--sampling-rate``) or
the format is ``ecg``: without one, such a file is read as RR exactly as before.

The channel: ``ecg_channel`` by name or number from 1; by default the first whose name is an ECG lead's (``ECG``,
``EKG``, ``MLII``, ``II``, ``V5`` ...), or the only one.

Limits and checks. WFDB and EDF signals (and ``.npy`` files) are read piece by piece from their files, so a record
of any length up to :data:`~cardiospike.data.ecg.MAX_SAMPLES` samples is read in bounded memory; a CSV or text file of
samples is read whole, within the input size limit. A header is read only where it is at most
:data:`MAX_HEADER_BYTES` bytes of lines of at most :data:`MAX_HEADER_LINE` characters; the bytes a header declares
(samples times frame size, data records times record size) must be what the file holds; the sampling rate must be
from :data:`~cardiospike.data.ecg.MIN_SAMPLING_RATE` to :data:`~cardiospike.data.ecg.MAX_SAMPLING_RATE` Hz. EDF+D
(discontinuous) records and WFDB signals with several samples per frame are refused. ``wfdb`` and ``edfio`` come with
the ``ecg`` extra (``pip install 'cardiospike[ecg]'``).
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cardiospike.data.ecg import (
    ECG_EXTRA,
    MAX_SAMPLES,
    ArraySignal,
    EcgSource,
    Signal,
    check_sampling_rate,
    detect_beats,
    ecg_recording,
)
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.checks import excerpt, listing
from cardiospike.data.formats.delimited import SEPARATORS
from cardiospike.data.formats.npy import MAGIC as NPY_MAGIC
from cardiospike.data.formats.npy import check_npy
from cardiospike.data.formats.text import data_like
from cardiospike.recording import FloatArray, mostly_errors

#: The largest header read, and its longest line (a header is a few short lines; wfdb's expressions take quadratic
#: time on long ones).
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_LINE = 1024
#: The signature of an EDF file: its version, ``0`` padded to eight bytes.
EDF_MAGIC = b"0       "
#: Bytes per sample of the WFDB storage formats whose size the check of a signal file knows.
WFDB_SAMPLE_BYTES = {"8": 1.0, "16": 2.0, "61": 2.0, "80": 1.0, "160": 2.0, "212": 1.5, "24": 3.0, "32": 4.0}
#: A record line's frequency field: a number, then its counter frequency or base time, if any.
_FREQUENCY = re.compile(rb"\d*\.?\d+(?:[/(]|$)")
#: Names of channels that hold an ECG lead (matched whole, any case); also any name containing ECG or EKG.
_ECG_NAME = re.compile(r"(?:ml?|lead ?|d)?(?:i{1,3}|v[1-6]|avr|avl|avf|5)|.*(?:ecg|ekg).*", re.IGNORECASE)


def is_edf(raw: bytes) -> bool:
    """Whether bytes start as an EDF file does: the version ``0``, then digits for the header's size."""
    return raw.startswith(EDF_MAGIC) and len(raw) >= 256 and raw[184:192].strip().isdigit()


def choose_channel(names: list[str], wanted: str | None, source: str) -> int:
    """The index of the ECG channel among ``names``: ``wanted`` (a name, or a number from 1), else the first whose
    name is an ECG lead's, else the only one."""
    if wanted is not None:
        wanted = wanted.strip()
        if wanted.isdigit():
            number = int(wanted)
            if 1 <= number <= len(names):
                return number - 1
        exact = [i for i, n in enumerate(names) if n.strip() == wanted]
        folded = [i for i, n in enumerate(names) if n.strip().casefold() == wanted.casefold()]
        if exact or folded:
            return (exact or folded)[0]
        raise RecordingFormatError(
            source,
            f"no channel {excerpt(wanted)}; the channels are {listing(names, 12)} (by name, or by number from 1)",
            field="ecg_channel",
            hint="choose one with {ecg_channel=NAME}",
        )
    ecg = [i for i, n in enumerate(names) if _ECG_NAME.fullmatch(n.strip())]
    if ecg:
        return ecg[0]
    if len(names) == 1:
        return 0
    raise RecordingFormatError(
        source,
        f"which channel is the ECG? None of {listing(names, 12)} is named as an ECG lead",
        field="ecg_channel",
        hint="choose one with {ecg_channel=NAME}",
    )


def _recordings(signal: Signal, opts: Options) -> Recordings:
    """Detect the beats of ``signal`` and make its recording, with the sample and quality of each beat."""
    if opts.sampling_rate is not None and not math.isclose(opts.sampling_rate, signal.fs, rel_tol=1e-6):
        raise RecordingFormatError(
            opts.source,
            f"a sampling rate of {opts.sampling_rate:g} Hz was given, but the file's is {signal.fs:g} Hz",
            field="sampling_rate",
            hint="leave the sampling rate out: the file gives it",
        )
    try:
        beats = detect_beats(signal, opts.source, progress=opts.progress)
    except ImportError as exc:
        raise RecordingFormatError(opts.source, str(exc)) from None
    recording, columns = ecg_recording(beats, signal.fs, opts.default_id)
    recordings = Recordings([recording])
    recordings.ecg = {recording.id: EcgSource(_kept(signal), beats.samples)}
    recordings.unit = "ms"
    recordings.unit_note = None
    if opts.keep_columns:
        import pandas as pd  # as the other readers' extra columns

        recordings.extra = pd.DataFrame(columns)
    if mostly_errors(int(beats.doubtful.sum()), len(beats.doubtful)):
        recordings.warnings = (
            f"more than half the beats detected in channel {excerpt(signal.channel)} are doubtful (a low signal "
            "quality), so its HRV and anomalies mean little; choose another lead with {ecg_channel=NAME}",
        )
    return recordings


def _kept(signal: Signal) -> Signal:
    """The signal as it is kept to be read again (the report's strips): one read from its file as it is, since it
    is read again from the file; samples held in memory (a CSV or text file, an uploaded ``.npy``) as float32, half
    the memory, and more digits than a chart shows."""
    if isinstance(signal, ArraySignal) and not isinstance(signal.samples, np.memmap):
        return ArraySignal(np.asarray(signal.samples, dtype=np.float32), signal.fs, signal.channel)
    return signal


# ---------------------------------------------------------------------------------------------------------- WFDB


def read_wfdb_signal(header_path: Path, opts: Options) -> Recordings:
    """A WFDB record's ECG: its header ``header_path`` and the signal file it names, read with ``wfdb``."""
    try:
        import wfdb
    except ImportError:
        raise RecordingFormatError(opts.source, f"reading ECG records needs the 'ecg' extra: {ECG_EXTRA}") from None
    _check_header(header_path, opts.source)
    record = str(header_path.with_suffix(""))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = wfdb.rdheader(record)
    except Exception as exc:  # wfdb raises bare ValueError, TypeError ... on a malformed header
        raise RecordingFormatError(opts.source, f"not a WFDB header ({type(exc).__name__})") from None
    names = [str(n) for n in (header.sig_name or [])]
    if not names:
        raise RecordingFormatError(opts.source, "a WFDB header of no signal", field="number of signals")
    fs = check_sampling_rate(header.fs, opts.source, field="sampling frequency")
    channel = choose_channel(names, opts.ecg_channel, opts.source)
    files = list(header.file_name)
    fmt = str(header.fmt[channel])
    if (header.samps_per_frame or [1] * len(names))[channel] != 1:
        raise RecordingFormatError(opts.source, "several samples per frame are not read", field=names[channel])
    if fmt not in WFDB_SAMPLE_BYTES:
        raise RecordingFormatError(
            opts.source, f"signal format {excerpt(fmt)} is not read (only {', '.join(WFDB_SAMPLE_BYTES)})",
            field=names[channel],
        )  # fmt: skip
    data = header_path.parent / files[channel]
    if Path(files[channel]).name != files[channel] or not data.is_file():
        raise RecordingFormatError(opts.source, f"no signal file {excerpt(files[channel])} beside the header")
    in_file = [i for i, f in enumerate(files) if f == files[channel]]
    if any(str(header.fmt[i]) not in WFDB_SAMPLE_BYTES for i in in_file):
        raise RecordingFormatError(opts.source, f"{excerpt(files[channel])} mixes signal formats that are not read")
    frame = sum(WFDB_SAMPLE_BYTES[str(header.fmt[i])] for i in in_file)
    offset = int((header.byte_offset or [0] * len(names))[channel] or 0)
    size = data.stat().st_size - offset
    held = int(size // frame)
    declared = header.sig_len
    if declared is None or declared == 0:  # WFDB allows a header without a length: the file's
        declared = held
    if declared > held:
        raise RecordingFormatError(
            opts.source,
            f"the header declares {declared} samples but {data.name} holds {held} (cut short, or a wrong length)",
            field="number of samples",
        )
    if declared > MAX_SAMPLES:
        raise RecordingFormatError(
            opts.source, f"{declared} samples, more than the limit of {MAX_SAMPLES}", field="number of samples"
        )
    return _recordings(_WfdbSignal(record, channel, fs, int(declared), names[channel]), opts)


def _check_header(path: Path, source: str) -> None:
    try:
        size = path.stat().st_size
        if size > MAX_HEADER_BYTES:
            raise RecordingFormatError(source, f"a WFDB header of {size} bytes, more than {MAX_HEADER_BYTES}")
        text = path.read_bytes()
    except OSError as exc:
        raise RecordingFormatError(source, f"cannot read the header: {exc.strerror}") from None
    lines = text.splitlines()
    if any(len(line) > MAX_HEADER_LINE for line in lines):
        raise RecordingFormatError(source, f"a WFDB header with a line of more than {MAX_HEADER_LINE} characters")
    # The record line's frequency, checked here: wfdb reads a field it cannot parse (a negative one) as its default.
    record = next((line.split() for line in lines if line.strip() and not line.lstrip().startswith(b"#")), [])
    if len(record) >= 3 and not _FREQUENCY.match(record[2]):
        raise RecordingFormatError(
            source, "the sampling frequency is not a positive number", field="sampling frequency"
        )


@dataclass(frozen=True)
class _WfdbSignal:
    record: str
    index: int
    fs: float
    n_samples: int
    channel: str

    def read(self, start: int, stop: int) -> FloatArray:
        import wfdb

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = wfdb.rdrecord(self.record, sampfrom=start, sampto=stop, channels=[self.index], physical=True)
        return np.asarray(rec.p_signal[:, 0], dtype=np.float64)


# ----------------------------------------------------------------------------------------------------------- EDF


def read_edf(content: Content | None, opts: Options) -> Recordings:
    """An EDF/EDF+ record's ECG, read with ``edfio``: from its file where there is one (piece by piece), else from
    the content."""
    try:
        import edfio
    except ImportError:
        raise RecordingFormatError(opts.source, f"reading EDF needs the 'ecg' extra: {ECG_EXTRA}") from None
    if opts.path is not None:
        try:
            with opts.path.open("rb") as file:
                head = file.read(256)
                ns = _edf_int(head, 252, 256, "number of signals", opts.source)
                head += file.read(256 * max(ns, 0))
            size = opts.path.stat().st_size
        except OSError as exc:
            raise RecordingFormatError(opts.source, f"cannot be read: {exc.strerror}") from None
    else:
        assert content is not None
        head, size = content.raw[: 256 * 257], len(content.raw)
    _check_edf(head, size, opts.source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # checked above: no record count or size it would warn of
            edf = edfio.read_edf(opts.path if opts.path is not None else content.raw, lazy_load_data=True)  # type: ignore[union-attr]
    except Exception as exc:  # edfio raises ValueError ... on fields it cannot parse
        raise RecordingFormatError(opts.source, f"not an EDF file ({type(exc).__name__})") from None
    signals = [s for s in edf.signals]
    if not signals:
        raise RecordingFormatError(opts.source, "an EDF file of no signal", field="number of signals")
    names = [str(s.label) for s in signals]
    index = choose_channel(names, opts.ecg_channel, opts.source)
    chosen = signals[index]
    fs = check_sampling_rate(chosen.sampling_frequency, opts.source, field=f"{names[index]}: samples per record")
    n = round(edf.duration * fs)
    return _recordings(_EdfSignal(chosen, fs, n, names[index]), opts)


def _edf_int(head: bytes, start: int, stop: int, field: str, source: str) -> int:
    text = head[start:stop].decode("ascii", "replace").strip()
    try:
        return int(text)
    except ValueError:
        raise RecordingFormatError(source, f"not an EDF file: {field} is not a whole number", field=field) from None


def _check_edf(head: bytes, size: int, source: str) -> None:
    """The EDF header's counts against the file: the records it declares must be the whole records it holds."""
    if not is_edf(head):
        raise RecordingFormatError(source, "not an EDF file (no EDF header)", structural=True)
    if head[192:197] == b"EDF+D":
        raise RecordingFormatError(source, "an EDF+D (discontinuous) record, which is not read", field="reserved")
    ns = _edf_int(head, 252, 256, "number of signals", source)
    header_bytes = _edf_int(head, 184, 192, "header bytes", source)
    if ns < 1 or header_bytes != 256 * (ns + 1) or len(head) < header_bytes:
        raise RecordingFormatError(
            source, "not an EDF file: its header's size and signal count disagree", field="number of signals"
        )
    records = _edf_int(head, 236, 244, "number of data records", source)
    at = 256 + ns * (16 + 80 + 8 + 8 + 8 + 8 + 8 + 80)
    per_record = 0
    for i in range(ns):
        per_record += _edf_int(head, at + 8 * i, at + 8 * (i + 1), "samples per data record", source)
    if per_record <= 0:
        raise RecordingFormatError(
            source, "not an EDF file: no samples per data record", field="samples per data record"
        )
    held, rest = divmod(size - header_bytes, 2 * per_record)
    if records != held or rest:
        raise RecordingFormatError(
            source,
            f"the header declares {records} data records but the file holds {held}"
            + (f" and {rest} bytes more" if rest else "")
            + " (cut short, or a wrong count)",
            field="number of data records",
        )
    if held * per_record > 4 * MAX_SAMPLES:
        raise RecordingFormatError(source, "more samples than the limit", field="number of data records")


@dataclass(frozen=True)
class _EdfSignal:
    signal: Any
    fs: float
    n_samples: int
    channel: str

    def read(self, start: int, stop: int) -> FloatArray:
        return np.asarray(self.signal.get_data_slice(start / self.fs, stop / self.fs), dtype=np.float64)


# ------------------------------------------------------------------------------------------------------- samples


def read_samples(content: Content | None, opts: Options) -> Recordings:
    """ECG samples at ``opts.sampling_rate``: a ``.npy`` array (memory-mapped from its file), or a CSV or text file
    of one column of numbers (a header row allowed; of several columns, ``ecg_channel`` or an ECG-named one)."""
    if opts.sampling_rate is None:
        raise RecordingFormatError(
            opts.source,
            "ECG samples need their sampling rate",
            field="sampling_rate",
            hint="give it with {sampling_rate=HZ}",
        )
    fs = opts.sampling_rate  # checked with the options
    # The readers pass no content for a .npy file only: it is mapped from its path, not read.
    if content is None or content.raw.startswith(NPY_MAGIC):
        array = _npy_samples(content, opts)
        names = list(array.dtype.names) if array.dtype.names else _numbered(array.shape[1])
        index = choose_channel(names, opts.ecg_channel, opts.source) if len(names) > 1 else 0
        column = array[names[index]] if array.dtype.names else array[:, index]
        if column.dtype.kind not in "fiu":
            raise RecordingFormatError(opts.source, f"samples of {column.dtype}, not numbers", field=names[index])
        return _recordings(ArraySignal(column, fs, names[index]), opts)
    assert content is not None
    names, columns = _text_columns(content, opts.source)
    index = choose_channel(names, opts.ecg_channel, opts.source) if len(names) > 1 else 0
    return _recordings(ArraySignal(columns[index], fs, names[index]), opts)


def _npy_samples(content: Content | None, opts: Options) -> np.ndarray:
    if content is None:
        assert opts.path is not None
        with opts.path.open("rb") as file:  # the header alone is checked: the array is mapped, not read
            head = file.read(64 * 1024)
        check_npy(head, opts.source, size=opts.path.stat().st_size)
        array = np.load(opts.path, mmap_mode="r", allow_pickle=False)
    else:
        check_npy(content.raw, opts.source)
        array = np.load(io.BytesIO(content.raw), allow_pickle=False)
    if array.dtype.names is None:
        if array.ndim == 1:
            array = array[:, None]
        if array.ndim != 2 or array.dtype.kind not in "fiu":
            raise RecordingFormatError(
                opts.source, f"an array of shape {array.shape} and type {array.dtype}: expected samples"
            )
    elif array.ndim != 1:
        raise RecordingFormatError(opts.source, f"a record array of shape {array.shape}: expected one dimension")
    return array


def _text_columns(content: Content, source: str) -> tuple[list[str], list[FloatArray]]:
    """The numeric columns of a CSV or text file of samples, with a header row or none (read by pyarrow)."""
    import pyarrow as pa
    from pyarrow import csv

    text = content.utf8
    lines = [line for line in content.head(4096).split("\n") if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise RecordingFormatError(source, "file is empty")
    first = lines[0]
    sep = max(SEPARATORS, key=first.count) if any(c in first for c in SEPARATORS) else " "
    header = not data_like(first)
    try:
        table = csv.read_csv(
            io.BytesIO(text),
            read_options=csv.ReadOptions(autogenerate_column_names=not header),
            parse_options=csv.ParseOptions(delimiter=sep, ignore_empty_lines=True),
            convert_options=csv.ConvertOptions(strings_can_be_null=True),
        )
    except pa.ArrowInvalid as exc:
        where = re.search(r"[Rr]ow #?(\d+)", str(exc))
        raise RecordingFormatError(
            source, "not a file of ECG samples: its rows differ", row=int(where.group(1)) if where else None
        ) from None
    names = [str(n) for n in table.column_names] if header else _numbered(table.num_columns)
    columns: list[FloatArray] = []
    for name, column in zip(names, table.columns, strict=True):
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_null(column.type)):
            raise RecordingFormatError(source, "samples that are not numbers", field=name)
        columns.append(column.to_numpy(zero_copy_only=False).astype(np.float64))
    return names, columns


def _numbered(n: int) -> list[str]:
    """Names of columns that have none: ``samples`` alone, else their numbers from 1 (as ``ecg_channel`` takes)."""
    return ["samples"] if n == 1 else [str(i + 1) for i in range(n)]
