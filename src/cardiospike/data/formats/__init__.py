"""One small reader per input format, and the registry that names them and sniffs which one reads an input.

Sniffing looks, in this order, at signatures of binary formats (``.npy``, FIT), the file's extension, then the
content: Polar HRM sections, the header of a Garmin ``FitCSVTool`` export (CSV, whose rows differ in length), JSON or
NDJSON, and between CSV and text the first lines (one header row whose fields match the rows below: CSV; numbers from
the start, or several header lines: text).

The CSV reader also reads ``FitCSVTool`` exports (``hrv`` messages, :mod:`~cardiospike.data.formats.fitcsv`); the
JSON reader also reads RR lists of sample objects (``{"rr": [{"dateTime": ..., "value": 859}, ...]}``, Polar Flow).
"""

from __future__ import annotations

import json
from pathlib import Path

from cardiospike.data.formats.base import Content, Options, Reader, Recordings
from cardiospike.data.formats.delimited import MAX_COLUMNS, SEPARATORS, read_csv
from cardiospike.data.formats.fit import is_fit, read_fit
from cardiospike.data.formats.fitcsv import is_fitcsv
from cardiospike.data.formats.hrm import is_hrm, read_hrm
from cardiospike.data.formats.jsondoc import read_json, read_ndjson
from cardiospike.data.formats.npy import MAGIC as NPY_MAGIC
from cardiospike.data.formats.npy import read_npy
from cardiospike.data.formats.text import data_like, read_text
from cardiospike.data.formats.wfdb_ann import ANNOTATION_SUFFIXES, read_wfdb
from cardiospike.recording import FORMATS

__all__ = ["MAX_COLUMNS", "READERS", "Content", "Options", "Reader", "Recordings", "sniff"]

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
    )
}
assert set(READERS) == set(FORMATS) - {"auto"}, "recording.FORMATS names every reader"


def sniff(content: Content, source: str) -> tuple[str, str]:
    """The format of an input and why it was taken for it (``"from the extension .csv"``, ``"from the content"``)."""
    raw = content.raw
    if raw.startswith(NPY_MAGIC):
        return "npy", "from the content"
    if is_fit(raw):
        return "fit", "from the content"
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
