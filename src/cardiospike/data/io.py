"""Readers and writers of RR recordings, with validation that says what is wrong and where.

Accepted inputs
---------------
* CSV with a header: an ``x`` or ``rr`` column (RR in ms), optional ``id`` (many recordings, the competition
  format ``id,time,x[,y]``), optional ``time`` (ms, strictly increasing within a recording) and optional ``y``
  (labels 0/1). Comma, semicolon or tab separated.
* Plain text: one RR interval in ms per line, as Kubios or Elite HRV export it; blank lines and lines starting
  with ``#`` are skipped.
* JSON: a list of RR values, an object ``{"id", "rr", "time"?, "y"?}`` (``study``/``sequence``/``times``/
  ``labels`` are accepted as the names of the original service), or a list of such objects.

Limits: an input file may hold at most :data:`MAX_INPUT_BYTES` bytes and a CSV header at most
:data:`MAX_COLUMNS` columns; RR values must lie in ``[0, MAX_RR_MS]``. Without ``time``, beats are timed by the
cumulative sum of RR. RR values outside the physiological range (0 included, as devices write a dropped beat) are
kept: the detector flags them as measurement errors.

Errors name the source, line and field; the value found there is kept apart (:attr:`RecordingFormatError.value`),
so a service can answer with the place and the problem without echoing the content of a request.

One module for the three formats, although it is long: most of its length is the checks every reader shares (numbers,
finite values, the RR range, times, labels, recordings kept together), written once with the helpers that locate a
bad value by line and field; a parser per format is a few dozen lines of it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cardiospike.recording import (
    FORMATS,
    ID,
    LABEL,
    MAX_RR_MS,
    RR,
    TIME,
    FloatArray,
    Format,
    Recording,
    time_from_rr,
)

#: Largest input file the readers accept (bytes).
MAX_INPUT_BYTES = 256 * 1024 * 1024
#: Most columns in a CSV header: exports have a handful; thousands are no recording, and cost time to read.
MAX_COLUMNS = 256

_RR_NAMES = (RR, "rr")
_JSON_NAMES = {
    "id": ("id", "study"),
    "rr": ("rr", "sequence", "x"),
    "time": ("time", "times"),
    "labels": ("y", "labels"),
}


class RecordingFormatError(ValueError):
    """An input that cannot be read as RR recordings; the message names the source, row and field.

    ``value`` is what was found there (an offending value, a recording id), shown in ``str(error)`` for the
    person who gave the file; :meth:`without_value` is the message without it, for answers of a service.
    """

    def __init__(
        self, source: str, problem: str, *, row: int | None = None, field: str | None = None, value: str | None = None
    ):
        self.source, self.problem, self.row, self.field, self.value = source, problem, row, field, value
        super().__init__(self._message(with_value=True))

    def _message(self, with_value: bool) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"line {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        found = f": {self.value}" if with_value and self.value is not None else ""
        return f"{', '.join(where)}: {self.problem}{found}"

    def without_value(self) -> str:
        """The message without the value found in the input: where and what, nothing of the content."""
        return self._message(with_value=False)


def read_recordings(
    path: str | os.PathLike[str], fmt: Format = "auto", *, use_time: bool = True, max_recordings: int | None = None
) -> list[Recording]:
    """Read every recording in a file (CSV, plain text or JSON; see the module docstring).

    With ``use_time=False`` a ``time`` column or field is ignored and beats are timed by the cumulative sum of RR
    (for exports whose times are unreliable). ``max_recordings`` refuses a file of more recordings.
    """
    p = Path(path)
    if not p.is_file():
        raise RecordingFormatError(str(p), "no such file")
    size = p.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise RecordingFormatError(str(p), f"file is {size} bytes, more than the limit of {MAX_INPUT_BYTES}")
    return parse_recordings(
        p.read_bytes(), source=str(p), fmt=fmt, default_id=p.stem, use_time=use_time, max_recordings=max_recordings
    )


def parse_recordings(
    content: str | bytes,
    *,
    source: str = "<input>",
    fmt: Format = "auto",
    default_id: str = "recording",
    use_time: bool = True,
    max_recordings: int | None = None,
) -> list[Recording]:
    """Parse recordings from the content of a file.

    Parameters
    ----------
    content : str or bytes
        The file's content (bytes are decoded as UTF-8).
    source : str
        Name used in error messages (a path, an upload's file name).
    fmt : {"auto", "csv", "text", "json"}
        Input format; ``auto`` decides from the file suffix, then from the content.
    default_id : str
        Recording id where the input does not name one.
    use_time : bool
        Read the ``time`` column or field; when False, time beats by the cumulative sum of RR instead.
    max_recordings : int, optional
        Refuse an input of more recordings than this (checked before they are built).
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RecordingFormatError(source, f"not UTF-8 text (byte {exc.start})") from None
    if not content.strip():
        raise RecordingFormatError(source, "file is empty")
    if fmt not in FORMATS:
        raise RecordingFormatError(source, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    kind = detect_format(content, source) if fmt == "auto" else fmt
    if kind == "json":
        return _parse_json(content, source, default_id, use_time, max_recordings)
    if kind == "csv":
        return _parse_csv(content, source, default_id, use_time, max_recordings)
    return _parse_text(content, source, default_id)


def _check_count(n_recordings: int, limit: int | None, source: str) -> None:
    if limit is not None and n_recordings > limit:
        raise RecordingFormatError(source, f"{n_recordings} recordings, more than the limit of {limit} per input")


def detect_format(content: str, source: str = "") -> Format:
    """Guess the format from the file suffix, else from the first meaningful line."""
    suffix = Path(source).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    stripped = content.lstrip()
    if stripped[:1] in ("[", "{"):
        return "json"
    first = next((ln.strip() for ln in content.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    return "csv" if any(c.isalpha() or c in ",;\t" for c in first) else "text"


# --- CSV ---------------------------------------------------------------------------------------------------------


def _parse_csv(
    content: str, source: str, default_id: str, use_time: bool, max_recordings: int | None
) -> list[Recording]:
    body = content.lstrip("\n")
    skipped = len(content) - len(body)  # leading blank lines, to keep line numbers true
    header = body.split("\n", 1)[0]
    sep = max((",", ";", "\t"), key=header.count)
    # Counted before pandas reads anything: every row would get as many fields as the header has.
    if header.count(sep) >= MAX_COLUMNS:
        raise RecordingFormatError(
            source, f"the header has more than {MAX_COLUMNS} columns, the limit", row=1 + skipped
        )
    try:
        # Reading the header as a row makes any row with more fields than the header an error.
        frame = pd.read_csv(
            io.StringIO(body), sep=sep, header=None, dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        raise RecordingFormatError(source, f"malformed CSV: {exc}") from None
    names = [str(name).strip().strip('"').lower() for name in frame.iloc[0]]
    twice = next((name for name, n in Counter(names).items() if n > 1), None)
    if twice is not None:
        raise RecordingFormatError(source, f"column {twice!r} appears twice in the header", row=1 + skipped)
    frame = frame.iloc[1:].set_axis(names, axis=1).fillna("")
    blank = (frame.apply(lambda col: col.str.strip()) == "").all(axis=1)
    frame = frame.loc[~blank]
    if frame.empty:
        raise RecordingFormatError(source, "no data rows after the header")
    lines = frame.index.to_numpy() + 1 + skipped

    rr_cols = [c for c in _RR_NAMES if c in frame.columns]
    if not rr_cols:
        found = ", ".join(map(repr, frame.columns))
        raise RecordingFormatError(
            source, f"missing RR column: expected 'x' or 'rr' in the header, found {found}", row=1
        )
    if len(rr_cols) > 1:
        raise RecordingFormatError(source, "both 'x' and 'rr' columns: keep one RR column", row=1)

    def where(field: str) -> Callable[[int], tuple[int, str]]:
        return lambda i: (int(lines[i]), field)

    rr = _numeric(frame[rr_cols[0]].to_numpy(), source, where(rr_cols[0]))
    _check_rr(rr, source, where(rr_cols[0]))
    time = _numeric(frame[TIME].to_numpy(), source, where(TIME)) if use_time and TIME in frame.columns else None
    labels = _labels(frame[LABEL].to_numpy(), source, where(LABEL)) if LABEL in frame.columns else None

    if ID in frame.columns:
        ids = frame[ID].str.strip().to_numpy()
        empty = _first(ids == "")
        if empty is not None:
            raise RecordingFormatError(source, "empty recording id", row=int(lines[empty]), field=ID)
    else:
        ids = np.full(len(frame), default_id, dtype=object)
    codes, uniques = pd.factorize(ids)
    _check_count(len(uniques), max_recordings, source)

    if time is not None:
        dup = _first(pd.DataFrame({"id": ids, "t": time}).duplicated().to_numpy())
        if dup is not None:
            raise RecordingFormatError(
                source, "duplicated (id, time): this beat appears twice", row=int(lines[dup]), field=TIME
            )

    # Output keeps input order beat for beat, so a recording's rows must be consecutive.
    back = _first(np.diff(codes) < 0)
    if back is not None:
        raise RecordingFormatError(
            source,
            "the rows of a recording are not together (keep each recording's rows consecutive)",
            row=int(lines[back + 1]),
            field=ID,
            value=f"recording {ids[back + 1]!r}",
        )
    bounds = np.flatnonzero(np.diff(codes)) + 1
    recordings = []
    for rows in np.split(np.arange(len(frame)), bounds):
        rec_time = time_from_rr(rr[rows]) if time is None else time[rows]
        back = None if time is None else _first(np.diff(rec_time) <= 0)
        if back is not None:
            raise RecordingFormatError(
                source,
                "time is not increasing within the recording (ignore the time column to time beats by RR)",
                row=int(lines[rows[back + 1]]),
                field=TIME,
            )
        recordings.append(
            Recording(
                id=str(ids[rows[0]]),
                rr=rr[rows],
                time=rec_time,
                labels=None if labels is None else labels[rows],
            )
        )
    return recordings


# --- plain text --------------------------------------------------------------------------------------------------


def _parse_text(content: str, source: str, default_id: str) -> list[Recording]:
    lines = pd.Series(content.splitlines(), dtype=object).str.strip()
    keep = (lines != "") & ~lines.str.startswith("#")
    values = lines[keep]
    if values.empty:
        raise RecordingFormatError(source, "empty recording: no RR values")
    line_numbers = values.index.to_numpy() + 1

    def where(i: int) -> tuple[int, str]:
        return int(line_numbers[i]), "rr"

    rr = _numeric(values.to_numpy(), source, where)
    _check_rr(rr, source, where)
    return [Recording(id=default_id, rr=rr, time=time_from_rr(rr))]


# --- JSON --------------------------------------------------------------------------------------------------------


def _parse_json(
    content: str, source: str, default_id: str, use_time: bool, max_recordings: int | None
) -> list[Recording]:
    try:
        doc = json.loads(content)
    except json.JSONDecodeError as exc:
        raise RecordingFormatError(source, f"malformed JSON: {exc.msg} (column {exc.colno})", row=exc.lineno) from None
    except RecursionError:  # the parser recurses once per level of nesting and gives up about 1,000 deep
        raise RecordingFormatError(source, "JSON nested too deeply to be recordings") from None
    if isinstance(doc, list) and doc and all(isinstance(item, dict) for item in doc):
        items: list[tuple[str, Any]] = [(f"[{i}]", item) for i, item in enumerate(doc)]
    elif isinstance(doc, list | dict):
        items = [("", doc)]
    else:
        raise RecordingFormatError(source, "expected a list of RR values, a recording object or a list of them")
    _check_count(len(items), max_recordings, source)
    recordings = [
        _json_recording(obj, prefix, source, default_id, i, use_time) for i, (prefix, obj) in enumerate(items)
    ]
    seen: set[str] = set()
    for (prefix, _), rec in zip(items, recordings, strict=True):
        if rec.id in seen:
            raise RecordingFormatError(source, "a recording id appears twice", field=f"{prefix}.id", value=repr(rec.id))
        seen.add(rec.id)
    return recordings


def _json_recording(obj: Any, prefix: str, source: str, default_id: str, index: int, use_time: bool) -> Recording:
    if isinstance(obj, list):
        obj = {"rr": obj}
    fields: dict[str, tuple[str, Any]] = {}
    for key, names in _JSON_NAMES.items():
        present = [n for n in names if n in obj]
        if len(present) > 1:
            raise RecordingFormatError(source, f"both {present[0]!r} and {present[1]!r} given", field=prefix or None)
        if present:
            fields[key] = (f"{prefix}.{present[0]}".lstrip("."), obj[present[0]])
    if "rr" not in fields:
        raise RecordingFormatError(source, "missing RR values: expected 'rr' (or 'sequence'/'x')", field=prefix or None)

    def numbers(key: str) -> tuple[str, FloatArray]:
        name, values = fields[key]
        if not isinstance(values, list):
            raise RecordingFormatError(source, "expected a list of numbers", field=name)
        if key == "rr" and not values:
            raise RecordingFormatError(source, "empty recording: no RR values", field=name)
        bad = next((i for i, v in enumerate(values) if isinstance(v, bool) or not isinstance(v, int | float)), None)
        if bad is not None:
            raise RecordingFormatError(source, "not a number", field=f"{name}[{bad}]", value=_show(values[bad]))
        return name, np.asarray(values, dtype=np.float64)

    rr_name, rr = numbers("rr")
    _check_rr(rr, source, lambda i: (None, f"{rr_name}[{i}]"))
    time = None
    if use_time and "time" in fields:
        time_name, time = numbers("time")
        if time.shape != rr.shape:
            raise RecordingFormatError(
                source,
                f"{time.size} times for {rr.size} RR values: expected one time per beat",
                field=time_name,
            )
        _check_finite(time, source, lambda i: (None, f"{time_name}[{i}]"))
        back = _first(np.diff(time) <= 0)
        if back is not None:
            raise RecordingFormatError(source, "time is not increasing", field=f"{time_name}[{back + 1}]")
    labels = None
    if "labels" in fields:
        label_name, raw = numbers("labels")
        if raw.shape != rr.shape:
            raise RecordingFormatError(source, f"{raw.size} labels for {rr.size} RR values", field=label_name)
        labels = _labels(raw, source, lambda i: (None, f"{label_name}[{i}]"))
    rec_id = obj.get("id", obj.get("study"))
    if rec_id is None:
        rec_id = default_id if index == 0 else f"{default_id}-{index}"
    return Recording(id=str(rec_id), rr=rr, time=time_from_rr(rr) if time is None else time, labels=labels)


# --- shared checks -----------------------------------------------------------------------------------------------

Where = Callable[[int], tuple[int | None, str]]


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _raise_at(source: str, problem: str, where: Where, i: int, value: str | None = None) -> None:
    row, field = where(i)
    raise RecordingFormatError(source, problem, row=row, field=field, value=value)


def _numeric(raw: np.ndarray, source: str, where: Where) -> FloatArray:
    values = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype=np.float64)
    bad = _first(np.isnan(values))
    if bad is not None:
        text = str(raw[bad]).strip()
        if text:
            _raise_at(source, "not a number", where, bad, _show(text))
        _raise_at(source, "empty value", where, bad)
    _check_finite(values, source, where)
    return values


def _check_finite(values: FloatArray, source: str, where: Where) -> None:
    bad = _first(~np.isfinite(values))
    if bad is not None:
        _raise_at(source, "not a finite number", where, bad, str(values[bad]))


def _check_rr(rr: FloatArray, source: str, where: Where) -> None:
    """RR must be a number in ``[0, MAX_RR_MS]``; 0 and other values outside the physiological range are kept."""
    _check_finite(rr, source, where)
    bad = _first(rr < 0)
    if bad is not None:
        _raise_at(source, "RR must not be negative", where, bad, f"{rr[bad]:g}")
    bad = _first(rr > MAX_RR_MS)
    if bad is not None:
        _raise_at(
            source,
            f"RR above {MAX_RR_MS:,.0f} ms is no heart beat interval in milliseconds (another column or unit?)",
            where,
            bad,
            f"{rr[bad]:g}",
        )


def _labels(raw: np.ndarray, source: str, where: Where) -> np.ndarray:
    values = raw if raw.dtype == np.float64 else _numeric(raw, source, where)
    bad = _first(~np.isin(values, (0.0, 1.0)))
    if bad is not None:
        _raise_at(source, "label must be 0 or 1", where, bad, f"{values[bad]:g}")
    return values.astype(np.int8)


# --- writers -----------------------------------------------------------------------------------------------------


def recordings_to_frame(recordings: Sequence[Recording]) -> pd.DataFrame:
    """Stack recordings into one frame in the competition format (``id,time,x[,y]``)."""
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
