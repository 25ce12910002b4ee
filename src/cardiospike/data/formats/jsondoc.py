"""JSON and NDJSON (one JSON value per line).

JSON: a list of RR values (numbers, or numbers as strings); a recording object whose RR list has one of the RR
names (``rr``, ``sequence``, ``rr_intervals``, ``nni``, ``RR (s)`` ...), with ``id``/``study``, ``time``/``times``
and ``y``/``labels`` beside it; a list of such objects; a list of beat objects (``{"time": ..., "rr": 812}``, grouped
into recordings by their ``id``); or any of these nested under another key (``{"data": {"samples": [...]}}``).
An RR list may also hold sample objects, as Polar Flow-style exports write it
(``{"samples": {"rr": [{"dateTime": "2021-03-08T12:00:00.000", "value": 859}, ...]}}``): RR from each one's
``value`` (or RR-named, or ``ms``) key, beat times from its ``dateTime``/``time``/``timestamp`` where every sample has
one (ISO dates and times, or numbers).
NDJSON: a beat object, a recording object or a number per line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from cardiospike.data.arrow import numpy_of
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats.base import Content, Options, Recordings
from cardiospike.data.formats.checks import check_count, show
from cardiospike.data.formats.columns import NAMES, Roles, find_roles, header_unit, name_key
from cardiospike.data.formats.table import Table, arrow_ids, recordings_of

#: Levels of nesting searched for the recordings under other keys.
MAX_DEPTH = 4
_NOT_NUMBERS = (bool, dict, list)

WhereBeat = Callable[[int, str], tuple[int | None, str]]


class _Item(NamedTuple):
    """A recording found in the document: an object with an RR list, or a list of beat objects."""

    path: str
    beats: bool
    value: Any
    parent_id: str | None
    line: int | None = None


def read_json(content: Content, opts: Options) -> Recordings:
    doc = _load(content.text, opts.source)
    items = _find(doc, "", None, 0)
    if not items:
        if not isinstance(doc, dict):
            raise RecordingFormatError(
                opts.source, "expected a list of RR values, a recording object or a list of them", structural=True
            )
        items = [_Item("", False, doc, None)]  # refused with the reason: no RR in it
    return _recordings(items, opts)


def read_ndjson(content: Content, opts: Options) -> Recordings:
    fast = _fast_beats(content, opts)
    if fast is not None:
        return recordings_of(fast, opts)
    parsed = [
        (number, _load(line, opts.source, number))
        for number, line in enumerate(content.text.split("\n"), start=1)
        if line.strip()
    ]
    if not parsed:
        raise RecordingFormatError(opts.source, "file is empty")
    if all(isinstance(value, int | float | str) and not isinstance(value, bool) for _, value in parsed):
        parsed = [(number, {"rr": value}) for number, value in parsed]
    odd = next((number for number, value in parsed if not isinstance(value, dict)), None)
    if odd is not None:
        raise RecordingFormatError(
            opts.source, "expected a JSON object (a beat or a recording) per line", row=odd, structural=True
        )
    objects = [value for _, value in parsed]
    if _beats(objects):
        lines = [number for number, _ in parsed]
        return _beat_table(objects, opts, lambda i, key: (lines[i], key))
    return _recordings([_Item("", False, obj, None, number) for number, obj in parsed], opts)


def _fast_beats(content: Content, opts: Options) -> Table | None:
    """Beat objects, one per line, read by pyarrow (the GIL released, no Python object per value, no pandas but for
    the other columns kept with ``keep_columns``); None for anything else (recordings per line, blank lines, a value
    of another type), which the careful path reads."""
    data = content.utf8
    body = data.rstrip(b"\r\n")
    if b"\n\n" in body or b"\n\r\n" in body or body.startswith((b"\n", b"\r\n")):
        return None  # a blank line: rows would no longer be lines
    try:
        frame = pajson.read_json(pa.py_buffer(data), read_options=pajson.ReadOptions(use_threads=False))
        names = frame.column_names
        roles = find_roles(
            names, opts.source, rr_column=opts.rr_column, time_column=opts.time_column, id_column=opts.id_column
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, RecordingFormatError):
        return None
    numbers = [i for i in (roles.rr, roles.time, roles.label) if i is not None]
    types = frame.schema.types
    if any(not pa.types.is_integer(types[i]) and not pa.types.is_floating(types[i]) for i in numbers):
        return None
    if any(frame.column(i).null_count for i in numbers):
        return None
    ids = None
    if roles.id is not None and (
        not pa.types.is_string(types[roles.id]) or (ids := arrow_ids(frame.column(roles.id), opts)) is None
    ):
        return None
    columns: list[np.ndarray | None] = [None] * len(names)
    for i in numbers:
        columns[i] = numpy_of(pc.cast(frame.column(i), pa.float64()))
    if opts.keep_columns:
        import pandas as pd  # only for the columns kept: a list in a cell stays one value (numpy would nest it)

        for i in set(range(len(names))) - {*numbers, roles.id}:
            columns[i] = pd.Series(frame.column(i).to_pylist(), dtype=object).to_numpy()
    return Table(names=names, columns=columns, roles=roles, where=lambda col, i: (i + 1, names[col]), ids=ids)


def _load(text: str, source: str, line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        row = exc.lineno if line is None else line
        problem = f"malformed JSON: {exc.msg} (column {exc.colno})"
        raise RecordingFormatError(source, problem, row=row, structural=True) from None
    except RecursionError:  # the parser recurses once per level of nesting and gives up about 1,000 deep
        raise RecordingFormatError(source, "JSON nested too deeply to be recordings", row=line) from None


def _rr_key(obj: dict[str, Any]) -> str | None:
    return next((key for key in obj if name_key(key)[0] in NAMES["rr"]), None)


def _beats(items: list[Any]) -> bool:
    """Objects that are beats: each has a single RR value rather than a list."""
    if not items or not all(isinstance(item, dict) for item in items):
        return False
    keys = [_rr_key(item) for item in items]
    return all(key is not None and not isinstance(item[key], list) for key, item in zip(keys, items, strict=True))


def _find(doc: Any, path: str, parent_id: str | None, depth: int) -> list[_Item]:
    """The recordings in ``doc``, searched under other keys (``MAX_DEPTH`` deep) where it holds no RR itself."""
    if isinstance(doc, dict):
        if _rr_key(doc) is not None:
            return [_Item(path, False, doc, parent_id)]
        own = _id_of(doc) or parent_id
        for key, value in doc.items() if depth < MAX_DEPTH else ():
            found = _find(value, f"{path}.{key}".lstrip("."), own, depth + 1) if isinstance(value, dict | list) else []
            if found:
                return found
        return []
    if not isinstance(doc, list):
        return []
    if doc and all(isinstance(item, dict) for item in doc):
        if _beats(doc):
            return [_Item(path, True, doc, parent_id)]
        items = []
        for i, item in enumerate(doc):
            # An object without RR stays, to be refused with the reason (under its index).
            items += _find(item, f"{path}[{i}]", None, depth + 1) or [_Item(f"{path}[{i}]", False, item, None)]
        return items
    return [_Item(path, False, {"rr": doc}, parent_id)] if depth == 0 else []


def _recordings(items: list[_Item], opts: Options) -> Recordings:
    check_count(len(items), opts.max_recordings, opts.source)
    out = Recordings()
    seen: set[str] = set()
    for index, item in enumerate(items):
        default = item.parent_id or (opts.default_id if index == 0 else f"{opts.default_id}-{index}")
        if item.beats:
            recs = _beat_table(item.value, replace(opts, default_id=default), _beat_at(item))
        else:
            recs = _object(item, replace(opts, default_id=default, keep_columns=False))
        for rec in recs:
            if rec.id in seen:
                field = f"{item.path}.id".lstrip(".")
                raise RecordingFormatError(
                    opts.source, "a recording id appears twice", row=item.line, field=field, value=repr(rec.id)
                )
            seen.add(rec.id)
        out += recs
        out.unit, out.unit_note = recs.unit, out.unit_note or recs.unit_note
    return out


def _beat_at(item: _Item) -> WhereBeat:
    return lambda i, key: (item.line, f"{item.path}[{i}].{key}")


def _object(item: _Item, opts: Options) -> Recordings:
    """A recording object: RR, times and labels as lists of one value per beat."""
    obj, line, at = item.value, item.line, f"{item.path}." if item.path else ""
    keys = list(obj) if isinstance(obj, dict) else []
    roles = find_roles(
        keys,
        opts.source,
        rr_column=opts.rr_column,
        time_column=opts.time_column,
        id_column=opts.id_column,
        row=line,
        field=item.path or None,
        object_keys=True,
    )
    if _samples(obj[keys[roles.rr]]):
        rr_key = keys[roles.rr]
        samples = replace(opts, default_id=_id_of(obj) or opts.default_id)
        return _sample_list(obj[rr_key], rr_key, f"{at}{rr_key}", line, samples)
    rr = _values(obj[keys[roles.rr]], f"{at}{keys[roles.rr]}", line, opts.source)
    if rr.size == 0:
        raise RecordingFormatError(
            opts.source, "empty recording: no RR values", row=line, field=f"{at}{keys[roles.rr]}", structural=True
        )
    columns: list[np.ndarray | None] = [None] * len(keys)
    columns[roles.rr] = rr
    time = roles.time if opts.use_time else None
    for index, what in ((time, "times"), (roles.label, "labels")):
        if index is None:
            continue
        values = _values(obj[keys[index]], f"{at}{keys[index]}", line, opts.source)
        if values.size != rr.size:
            raise RecordingFormatError(
                opts.source,
                f"{values.size} {what} for {rr.size} RR values: expected one per beat",
                row=line,
                field=f"{at}{keys[index]}",
            )
        columns[index] = values
    table = Table(
        names=keys,
        columns=columns,
        roles=Roles(rr=roles.rr, time=time, label=roles.label),
        where=lambda col, i: (line, f"{at}{keys[col]}[{i}]"),
    )
    return recordings_of(table, replace(opts, default_id=_id_of(obj) or opts.default_id))


def _samples(values: Any) -> bool:
    """An RR list of sample objects (``[{"dateTime": ..., "value": 859}, ...]``) rather than of numbers."""
    return isinstance(values, list) and any(isinstance(value, dict) for value in values)


def _value_key(sample: dict[str, Any]) -> str | None:
    """The key of a sample object's RR value: ``value``, else a key named as RR, else ``ms`` (the first of each)."""

    def rank(key: str) -> int | None:
        name = name_key(key)[0]
        return 0 if name == "value" else 1 if name in NAMES["rr"] else 2 if name == "ms" else None

    ranked = [(r, i, key) for i, key in enumerate(sample) if (r := rank(key)) is not None]
    return min(ranked)[2] if ranked else None


def _sample_list(samples: list[Any], name: str, path: str, line: int | None, opts: Options) -> Recordings:
    """An RR list of sample objects, as Polar Flow exports write it (``{"rr": [{"dateTime": ..., "value": 859}]}``).

    RR from each sample's ``value`` (or RR-named, or ``ms``) key; beat times from a key named as times (``dateTime``,
    ``time``, ``timestamp`` ...: ISO dates and times or numbers) where every sample has one, else from RR.
    """
    import pandas as pd  # here, not at import: the fast readers need none of it (it takes 0.3 s to import)

    source = opts.source
    odd = next((i for i, sample in enumerate(samples) if not isinstance(sample, dict)), None)
    if odd is not None:
        raise RecordingFormatError(
            source,
            "expected an RR sample object, as the others are",
            row=line,
            field=f"{path}[{odd}]",
            value=show(samples[odd]),
        )
    key = _value_key(samples[0])
    if key is None:
        found = ", ".join(map(repr, samples[0]))
        raise RecordingFormatError(
            source,
            f"no RR value in the sample object (a key 'value', 'ms' or named as RR); found {found}",
            row=line,
            field=f"{path}[0]",
        )
    names = list(dict.fromkeys(k for sample in samples for k in sample))
    # Times only where every sample has one: a sample without would leave its beat untimed.
    time_key = next(
        (k for k in names if name_key(k)[0] in NAMES["time"] and all(s.get(k) is not None for s in samples)), None
    )
    keys = [key] if time_key is None or not opts.use_time else [key, time_key]
    # Through pandas, so that a list in a sample stays one value (numpy would make it a dimension).
    columns = [pd.Series([sample.get(k) for sample in samples], dtype=object).to_numpy() for k in keys]
    for col, values in enumerate(columns):
        bad = next((i for i, v in enumerate(values) if isinstance(v, _NOT_NUMBERS)), None)
        if bad is not None:
            raise RecordingFormatError(
                source, "not a number", row=line, field=f"{path}[{bad}].{keys[col]}", value=show(values[bad])
            )
    # The unit of RR as a name gives it: the sample's key (``value_ms``), else the list's (``RR (s)``).
    unit_name = key if header_unit(key) else "rr_ms" if name_key(key)[0] == "ms" else name
    table = Table(
        names=[unit_name, *keys[1:]],
        columns=columns,
        roles=Roles(rr=0, time=1 if len(keys) > 1 else None),
        where=lambda col, i: (line, f"{path}[{i}].{keys[col]}"),
    )
    return recordings_of(table, opts)


def _id_of(obj: dict[str, Any]) -> str | None:
    roles = find_roles(list(obj), "", need_rr=False)
    value = obj[list(obj)[roles.id]] if roles.id is not None else None
    return None if value is None or isinstance(value, dict | list) else str(value)


def _values(values: Any, name: str, line: int | None, source: str) -> np.ndarray:
    """A JSON list of numbers (or numbers as strings) as an array; booleans, objects and lists are no numbers."""
    if not isinstance(values, list):
        raise RecordingFormatError(source, "expected a list of numbers", row=line, field=name, structural=True)
    text = False
    for i, value in enumerate(values):
        if isinstance(value, str) or value is None:
            text = True
        elif isinstance(value, _NOT_NUMBERS) or not isinstance(value, int | float):
            raise RecordingFormatError(source, "not a number", row=line, field=f"{name}[{i}]", value=show(value))
    return np.array(values, dtype=object) if text else np.asarray(values, dtype=np.float64)


def _beat_table(beats: list[dict[str, Any]], opts: Options, where: WhereBeat) -> Recordings:
    """Beat objects as the rows of a table: their keys are its columns."""
    import pandas as pd  # here, not at import: the fast readers need none of it (it takes 0.3 s to import)

    names = list(dict.fromkeys(key for beat in beats for key in beat))
    # Through pandas, so that a list in a cell stays one value (numpy would make it a dimension).
    columns = [pd.Series([beat.get(key) for beat in beats], dtype=object).to_numpy() for key in names]
    roles = find_roles(
        names, opts.source, rr_column=opts.rr_column, time_column=opts.time_column, id_column=opts.id_column
    )
    for col in (roles.rr, roles.time, roles.label):
        odd = (
            None if col is None else next((i for i, v in enumerate(columns[col]) if isinstance(v, _NOT_NUMBERS)), None)
        )
        if col is not None and odd is not None:
            row, field = where(odd, names[col])
            raise RecordingFormatError(opts.source, "not a number", row=row, field=field, value=show(columns[col][odd]))
    return recordings_of(Table(names=names, columns=columns, roles=roles, where=lambda c, i: where(i, names[c])), opts)
