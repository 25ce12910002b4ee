"""Column names and units: which column holds RR, times, recording ids and labels, and in which unit.

Exports name the RR column in many ways (``x``, ``rr``, ``rri``, ``nni``, ``RR_list``, ``rr_ms``,
``RR interval (ms)``, ``RR-interval [ms]``); a name is compared by its letters and digits alone, once a unit written
in it (``(s)``, ``[ms]``, ``_ms``) is taken off and kept: a header that names its unit decides it. Otherwise RR whose
median is below :data:`~cardiospike.recording.SECONDS_BELOW` are seconds, and times are in the unit that makes
their steps match the RR.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.checks import EXCERPT, excerpt, listing
from cardiospike.recording import ERROR_RR_MIN_MS, SECONDS_BELOW, FloatArray, RRUnit, Unit, positive_median

Role = Literal["rr", "time", "id", "label"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: The names of each role's column, compared as :func:`name_key` gives them.
NAMES: dict[Role, frozenset[str]] = {
    "rr": _words(
        "x rr rri rrs nn nni nns rrlist rrinterval rrintervals nninterval nnintervals ibi ibis interbeatinterval "
        "interbeatintervals sequence rrdata"
    ),
    "time": _words("time times t timestamp timestamps phonetimestamp beattime clock datetime elapsed elapsedtime"),
    "id": _words("id study recording recordingid record subject subjectid session patient patientid file filename"),
    "label": _words("y label labels"),
}
SHOWN_RR_NAMES = "x, rr, rri, nni, RR_list, rr_ms, RR interval (ms) ..."
#: Parts of names of columns that may tell recordings apart although they are not read as ids by their name
#: (``pid``, ``patient_code``, ``user``): a file with one is warned about, as its recordings would be merged.
_ID_LIKE = re.compile(r"^(patient|subject|record|session|participant|user|person|file|case|study)|(id|ids|name|code)$")

_UNIT_WORDS: dict[str, RRUnit] = {
    "ms": "ms", "msec": "ms", "millisecond": "ms", "milliseconds": "ms",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
}  # fmt: skip
_BRACKETED = re.compile(r"[\(\[]\s*([a-z]+)\s*[\)\]]")
_SUFFIX = re.compile(r"[_\s\-.]+(ms|msec|s|sec|secs)$")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}(?:[.,]\d*)?))?\s*$")
_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}[T ]\d")


@lru_cache(maxsize=4096)  # a JSON file of beat objects asks for the same few keys once per beat
def name_key(name: str) -> tuple[str, RRUnit | None]:
    """A column name reduced to its lowercase letters and digits, and the unit it names, if any."""
    text = name.strip().strip('"').lower()
    unit: RRUnit | None = None
    bracketed = _BRACKETED.search(text)
    if bracketed and bracketed.group(1) in _UNIT_WORDS:
        unit = _UNIT_WORDS[bracketed.group(1)]
        text = text[: bracketed.start()] + text[bracketed.end() :]
    else:
        suffix = _SUFFIX.search(text)
        if suffix:
            unit = _UNIT_WORDS[suffix.group(1)]
            text = text[: suffix.start()]
    return re.sub(r"[^a-z0-9]", "", text), unit


def option(name: str, value: str) -> str:
    """A hint's option proposing ``value`` (``{rr_column=RR}``); the option alone (``{rr_column}``: NAME) where the
    value cannot be given back as it is: longer than an excerpt, or holding braces or characters a message escapes."""
    plain = len(value) <= EXCERPT and value.isprintable() and "{" not in value and "}" not in value
    return f"{{{name}={value}}}" if plain else f"{{{name}}}"


@dataclass(frozen=True)
class Roles:
    """Positions (in the header) of the columns that hold RR, times, recording ids and labels."""

    rr: int
    time: int | None = None
    id: int | None = None
    label: int | None = None

    def used(self) -> set[int]:
        return {i for i in (self.rr, self.time, self.id, self.label) if i is not None}


def find_roles(
    names: Sequence[str],
    source: str,
    *,
    rr_column: str | None = None,
    time_column: str | None = None,
    row: int | None = None,
    field: str | None = None,
    need_rr: bool = True,
    object_keys: bool = False,
    id_column: str | None = None,
) -> Roles:
    """The columns of each role by their names; ``rr_column``, ``time_column`` and ``id_column`` name (or number)
    them instead.

    RecordingFormatError where no column (or more than one) holds RR, naming the option that would choose. ``row``
    and ``field`` say where the names are; ``object_keys``: they are the keys of a JSON object, and a missing RR is
    said so.
    """
    keys = [name_key(n)[0] for n in names]

    def chosen(given: str, which: str) -> int:
        wanted = given.strip().lower()
        for i, name in enumerate(names):
            if name.strip().strip('"').lower() == wanted:
                return i
        if wanted.isdigit() and 1 <= int(wanted) <= len(names):
            return int(wanted) - 1  # a column number, from 1, for files without names
        found = listing(names) if any(names) else f"{len(names)} unnamed columns"
        raise RecordingFormatError(
            source, f"no column {excerpt(given)} ({option(which, given)}); found {found}", row=row, field=field
        )

    def by_name(role: Role) -> list[int]:
        return [i for i, k in enumerate(keys) if k in NAMES[role]]

    if rr_column is not None:
        rr = chosen(rr_column, "rr_column")
    else:
        hits = by_name("rr")
        if len(hits) > 1:
            a, b = (names[i].strip() for i in hits[:2])
            raise RecordingFormatError(
                source,
                f"both {excerpt(a)} and {excerpt(b)} look like RR columns",
                row=row,
                field=field,
                hint="choose one with {rr_column}",
            )
        if not hits:
            if not need_rr:
                return Roles(rr=-1)
            found = listing(names)
            missing = "missing RR values: no key" if object_keys else "missing RR column: no column"
            raise RecordingFormatError(
                source,
                f"{missing} is named as RR ({SHOWN_RR_NAMES}); found {found}",
                row=row,
                field=field,
                hint="name it with {rr_column}",
            )
        rr = hits[0]
    if time_column is not None:
        time: int | None = chosen(time_column, "time_column")
    else:
        time = next((i for i in by_name("time") if i != rr), None)
    if id_column is not None:
        ident: int | None = chosen(id_column, "id_column")
        if ident in (rr, time):
            raise RecordingFormatError(
                source,
                f"column {excerpt(id_column)} ({option('id_column', id_column)}) also holds RR or times",
                row=row,
                field=field,
            )
    else:
        ident = next((i for i in by_name("id") if i not in (rr, time)), None)
    # A scored file has the model's flags as y and the reference labels as label: the reference wins over y.
    labels = sorted(by_name("label"), key=lambda i: keys[i] == "y")
    label = next((i for i in labels if i not in (rr, time, ident)), None)
    return Roles(rr=rr, time=time, id=ident, label=label)


def unused_id_columns(names: Sequence[str], roles: Roles) -> list[str]:
    """Columns not read as ids although their names look like ids (``pid``, ``patient_code``, ``user``)."""
    if roles.id is not None:
        return []
    used = roles.used()
    keys = [name_key(n)[0] for n in names]
    return [
        n.strip()
        for i, (n, k) in enumerate(zip(names, keys, strict=True))
        if i not in used and _ID_LIKE.search(k) and not k.endswith("valid")
    ]


def unused_id_warning(column: str) -> str:
    """The warning about a column that may hold recording ids but is not read as them (a hint template)."""
    return (
        f"column {excerpt(column)} looks like recording ids but is not read as them, so all its beats are one "
        f"recording: {option('id_column', column)} reads one recording per value"
    )


def misread_hint(rr_ms: FloatArray, unit: RRUnit) -> str:
    """What to try where most beats are measurement errors, chosen from what the values look like (a template).

    RR forced into milliseconds although they are seconds: seconds (the other way round, values above 100 s are
    refused before). Values whose median is a heart rate (25-250 per minute): they are heart rates, another column
    holds RR. Otherwise: another column.
    """
    median = positive_median(rr_ms)
    if median is None:
        return "{rr_column} reads another column"
    if unit == "ms" and median < SECONDS_BELOW:
        return f"their median, {median:g}, is seconds as milliseconds: {{unit=s}} reads them as seconds"
    if unit == "ms" and 25 <= median < min(ERROR_RR_MIN_MS, 250):
        return f"their median, {median:g}, looks like a heart rate per minute, not RR: {{rr_column}} reads RR"
    return f"their median is {median:g} ms: is RR in another column? {{rr_column}} reads another column"


def header_unit(name: str | None) -> RRUnit | None:
    return None if name is None else name_key(name)[1]


def rr_unit(rr: FloatArray, unit: Unit, named: RRUnit | None, name: str) -> tuple[RRUnit, str | None]:
    """The unit of RR values and, where it is not plainly milliseconds, a sentence that says why.

    ``unit`` given as ms or s decides; then a unit the column's name gives; then the values: seconds where their
    median (of positive values) is below :data:`SECONDS_BELOW`.
    """
    median = positive_median(rr)
    if unit != "auto":
        doubt = (unit == "ms") == (median is not None and median < SECONDS_BELOW)
        note = f"RR read in {unit} as asked, although their median is {median:g}" if doubt and median else None
        return unit, note
    if named is not None:
        return named, None if named == "ms" else f"RR read in seconds: the column {excerpt(name)} says so"
    if median is not None and median < SECONDS_BELOW:
        return "s", (
            f"RR read in seconds: their median, {median:g}, is below {SECONDS_BELOW:g} ({{unit=ms}} reads them as ms)"
        )
    return "ms", None


def time_scale(time: FloatArray, rr_ms: FloatArray, named: RRUnit | None) -> float:
    """Milliseconds per unit of a time column: 1000 for seconds, else 1.

    A named unit decides; otherwise the one that makes the median step between beats nearest the median RR.
    """
    if named is not None:
        return 1000.0 if named == "s" else 1.0
    steps = np.diff(time)
    steps = steps[np.isfinite(steps) & (steps > 0)]
    rr = positive_median(rr_ms)
    if not steps.size or rr is None:
        return 1.0
    step = float(np.median(steps))
    return 1000.0 if abs(np.log(step * 1000.0 / rr)) < abs(np.log(step / rr)) else 1.0


def looks_like_time_of_day(text: str) -> bool:
    """A clock time (``08:00:00.859``) or a date and time (``2021-03-08T12:00:00.123``)."""
    return bool(_CLOCK.match(text) or _DATE.match(text))


def times_of_day(values: np.ndarray) -> tuple[FloatArray, int | None]:
    """Clock times or dates and times as milliseconds, and the index of the first value that is neither.

    Clock times count from midnight and go on past it (a time earlier by more than 12 hours is the next day);
    dates and times count from 1970-01-01 (UTC where they carry no zone).
    """
    import pandas as pd

    text = pd.Series(values, dtype=object).astype(str).str.strip()
    if _CLOCK.match(text.iloc[0]):
        parts = text.str.extract(_CLOCK.pattern)
        bad = np.flatnonzero(parts[0].isna().to_numpy())
        if bad.size:
            return np.zeros(len(values)), int(bad[0])
        seconds = pd.to_numeric(parts[2].fillna("0").str.replace(",", ".", regex=False))
        clock = np.asarray(
            (parts[0].astype(float) * 3600 + parts[1].astype(float) * 60 + seconds).to_numpy(np.float64) * 1e3,
            dtype=np.float64,
        )
        day = 86_400_000.0
        days: FloatArray = day * np.concatenate([[0.0], np.cumsum(np.diff(clock) < -day / 2)])
        return np.asarray(clock + days, dtype=np.float64), None
    stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    bad = np.flatnonzero(stamps.isna().to_numpy())
    if bad.size:
        return np.zeros(len(values)), int(bad[0])
    epoch = pd.Timestamp(0, tz="UTC")
    return np.asarray((stamps - epoch).dt.total_seconds().to_numpy(np.float64) * 1000.0, dtype=np.float64), None
