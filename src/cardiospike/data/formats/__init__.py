"""One small reader per input format, and the registry that names them and sniffs which one reads an input.

Sniffing looks, in this order, at signatures of binary formats (``.npy``, FIT), the file's extension, then the
content: Polar HRM sections, the header of a Garmin ``FitCSVTool`` export (CSV, whose rows differ in length), JSON or
NDJSON, and between CSV and text the first lines (one header row whose fields match the rows below: CSV; numbers from
the start, or several header lines: text).

ECG (:mod:`~cardiospike.data.formats.ecg`): EDF by its signature or extension; a WFDB record's signal by its
header with no annotation beside it, or its ``.dat``; a CSV, text or ``.npy`` file only where a sampling rate is
given (then it is read as ECG samples, never as RR). Files of the formats of :data:`FROM_PATH` are read from their
path piece by piece (:func:`path_format`), not as bytes in memory.

The CSV reader also reads ``FitCSVTool`` exports (``hrv`` messages, :mod:`~cardiospike.data.formats.fitcsv`); the
JSON reader also reads RR lists of sample objects (``{"rr": [{"dateTime": ..., "value": 859}, ...]}``, Polar Flow).
"""

from __future__ import annotations

import json
from pathlib import Path

from cardiospike.data.formats.base import Content, Options, Reader, Recordings
from cardiospike.data.formats.delimited import MAX_COLUMNS, SEPARATORS, read_csv
from cardiospike.data.formats.ecg import EDF_MAGIC, is_edf, read_edf, read_samples
from cardiospike.data.formats.fit import is_fit, read_fit
from cardiospike.data.formats.fitcsv import is_fitcsv
from cardiospike.data.formats.hrm import is_hrm, read_hrm
from cardiospike.data.formats.jsondoc import read_json, read_ndjson
from cardiospike.data.formats.npy import MAGIC as NPY_MAGIC
from cardiospike.data.formats.npy import read_npy
from cardiospike.data.formats.text import data_like, read_text
from cardiospike.data.formats.wfdb_ann import ANNOTATION_SUFFIXES, SIGNAL_SUFFIX, read_wfdb
from cardiospike.recording import FORMATS

__all__ = ["MAX_COLUMNS", "READERS", "Content", "Options", "Reader", "Recordings", "path_format", "sniff"]

#: Every reader by its name (the names of ``--format``).
READERS: dict[str, Reader] = {
    reader.name: reader
    for reader in (
        Reader("csv", (".csv", ".tsv"), read_csv),
        Reader("text", (".txt", ".rr"), read_text),
        Reader("hrm", (".hrm",), read_hrm, fixed_unit="ms"),
        Reader("json", (".json",), read_json),
        Reader("ndjson", (".ndjson", ".jsonl"), read_ndjson),
        Reader("npy", (".npy",), read_npy, binary=True),
        Reader("fit", (".fit",), read_fit, binary=True, fixed_unit="ms"),
        Reader("wfdb", (*ANNOTATION_SUFFIXES, ".hea"), read_wfdb, binary=True, fixed_unit="ms"),
        Reader("edf", (".edf",), read_edf, binary=True, fixed_unit="ms"),
        Reader("ecg", (), read_samples, binary=True, fixed_unit="ms"),
    )
}
assert set(READERS) == set(FORMATS) - {"auto"}, "recording.FORMATS names every reader"
#: Formats whose files may be read as ECG samples where a sampling rate is given.
SAMPLE_FORMATS = ("csv", "text", "npy")


def path_format(path: Path, fmt: str, sampling_rate: float | None) -> str | None:
    """The ECG format of a file read from its path piece by piece (a WFDB signal file, EDF, a ``.npy`` of samples),
    or None for a file read as bytes."""
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as file:
            start = file.read(max(len(EDF_MAGIC), len(NPY_MAGIC)))
    except OSError:
        return None
    if fmt in ("auto", "wfdb") and suffix == SIGNAL_SUFFIX and path.with_suffix(".hea").is_file():
        return "wfdb"  # a .dat without a header beside it is sniffed as any other file (RR as text, say)
    if fmt == "edf" or (fmt == "auto" and (suffix == ".edf" or start.startswith(EDF_MAGIC))):
        return "edf"
    npy = start.startswith(NPY_MAGIC)
    if npy and (fmt == "ecg" or (sampling_rate is not None and fmt in ("auto", "npy"))):
        return "ecg"
    return None


def with_samples(name: str, fmt: str, sampling_rate: float | None) -> str:
    """The reader of a file taken for ``name``: ``ecg`` for a CSV, text or ``.npy`` file given a sampling rate."""
    if sampling_rate is not None and name in SAMPLE_FORMATS and fmt in ("auto", *SAMPLE_FORMATS):
        return "ecg"
    return name


def sniff(content: Content, source: str) -> tuple[str, str]:
    """The format of an input and why it was taken for it (``"from the extension .csv"``, ``"from the content"``)."""
    raw = content.raw
    if raw.startswith(NPY_MAGIC):
        return "npy", "from the content"
    if is_fit(raw):
        return "fit", "from the content"
    if is_edf(raw):
        return "edf", "from the content"
    suffix = Path(source).suffix.lower()
    by_suffix = next((r.name for r in READERS.values() if suffix in r.suffixes and r.name != "text"), None)
    if by_suffix is not None:
        return by_suffix, f"from the extension {suffix}"
    head = content.head()
    return _by_content(head), "from the content"


def _by_content(head: str) -> str:
    if is_hrm(head):
        return "hrm"
    if is_fitcsv(head):
        return "csv"
    stripped = head.lstrip()
    lines = [line.strip() for line in head.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    several = len(lines) > 1 and all(line.startswith("{") for line in lines[:20])
    if stripped[:1] == "{" and several and _complete_json(lines[0]):
        return "ndjson"
    if stripped[:1] in ("[", "{"):
        return "json"
    if not lines or data_like(lines[0]):
        return "text"
    sep = max(SEPARATORS, key=lines[0].count)
    fields = lines[0].count(sep) if sep in lines[0] else 0
    single = fields == 0 and data_like(lines[1]) and len(lines[1].split()) == 1 if len(lines) > 1 else False
    if len(lines) > 1 and lines[1].count(sep) == fields and (fields or single):
        return "csv"
    return "text"


def _complete_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
