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

Limits, checked as the text is parsed (before any work per key): an object holds at most :data:`MAX_KEYS` keys, and
none twice (``json`` would keep the last value silently); a document (or an NDJSON file) at most :data:`MAX_KEYS`
different keys in all. Beat objects have at most :data:`~cardiospike.data.formats.delimited.MAX_COLUMNS` keys among
them (each is a column, as in CSV).
"""

from __future__ import annotations

import json
from collections import Counter
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
from cardiospike.data.formats.checks import check_count, excerpt, listing, show
from cardiospike.data.formats.columns import NAMES, Roles, find_roles, header_unit, name_key
from cardiospike.data.formats.delimited import MAX_COLUMNS
from cardiospike.data.formats.table import Table, arrow_ids, recordings_of

#: Levels of nesting searched for the recordings under other keys.
MAX_DEPTH = 4
#: Most keys of one JSON object. A recording or beat object has a handful; every key costs work (its name compared
#: with the RR names, a column of a table, a name in a message), and an object of 200,000 keys is no recording.
MAX_KEYS = 1_000
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
    doc = _Parser(opts.source).load(content.text)
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
    parser = _Parser(opts.source)
    parsed = [
        (number, parser.load(line, number))
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
    schema = _head_schema(content, opts)
    if schema is None:
        return None
    try:
        # The columns are the head's: a line with another key is no beat of this table (the careful path reads it).
        # pyarrow takes time quadratic in the number of columns it meets (8 s for two lines of 100,000 keys).
        parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
        frame = pajson.read_json(
            pa.py_buffer(data), read_options=pajson.ReadOptions(use_threads=False), parse_options=parse
        )
        names = frame.column_names
        roles = opts.roles(names)
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


class _RefusedError(Exception):
    """An object refused while the text is parsed (its problem; :meth:`_Parser.load` says where)."""


class _Parser:
    """``json.loads`` with every object checked as the parser makes it, before anything reads its keys: at most
    ``MAX_KEYS`` keys, none twice, and at most ``MAX_KEYS`` different keys among all the objects of a document (or
    of all the lines of a file), so that what is worked out per key (its name compared with the RR names, cached)
    is worked out for a bounded number of names."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.keys: set[str] = set()

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len(pairs) > MAX_KEYS:
            raise _RefusedError(f"an object of {len(pairs):,} keys, more than the limit of {MAX_KEYS:,}")
        obj = dict(pairs)
        if len(obj) < len(pairs):
            twice = next(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)
            raise _RefusedError(f"the key {excerpt(twice)} appears twice in an object (which of its values is meant?)")
        self.keys.update(obj)
        if len(self.keys) > MAX_KEYS:
            raise _RefusedError(f"more than {MAX_KEYS:,} different keys among the objects, the limit")
        return obj

    def load(self, text: str, line: int | None = None) -> Any:
        try:
            return json.loads(text, object_pairs_hook=self._object)
        except json.JSONDecodeError as exc:
            row = exc.lineno if line is None else line
            problem = f"malformed JSON: {exc.msg} (column {exc.colno})"
            raise RecordingFormatError(self.source, problem, row=row, structural=True) from None
        except _RefusedError as exc:
            raise RecordingFormatError(self.source, str(exc), row=line) from None
        except RecursionError:  # the parser recurses once per level of nesting and gives up about 1,000 deep
            raise RecordingFormatError(self.source, "JSON nested too deeply to be recordings", row=line) from None
        except ValueError:  # Python's limit on the digits of an integer (4,300)
            raise RecordingFormatError(self.source, "malformed JSON: a number too long to read", row=line) from None


def _head_schema(content: Content, opts: Options) -> pa.Schema | None:
    """The columns of a file of beat objects and their types, from its first lines (about 64 KB of them), parsed
    first as every line of the careful path is (each object's keys counted, none twice); None where they are no flat
    beat objects of at most ``MAX_COLUMNS`` keys in all, or a line is longer than that start."""
    head = content.head()
    line_end = content.utf8.find(b"\n")
    if len(head.encode("utf-8")) < (len(content.utf8) if line_end < 0 else line_end):
        return None  # the first line is cut short
    lines = enumerate(head.split("\n"), start=1)
    parser = _Parser(opts.source)
    objects = [parser.load(line, number) for number, line in lines if line.strip()]
    if not all(isinstance(obj, dict) and not any(isinstance(v, dict) for v in obj.values()) for obj in objects):
        return None
    if len({key for obj in objects for key in obj}) > MAX_COLUMNS:
        return None
    try:
        schema = pajson.read_json(
            pa.py_buffer(head.encode("utf-8")), read_options=pajson.ReadOptions(use_threads=False)
        ).schema
        roles = opts.roles(schema.names)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, RecordingFormatError):
        return None
    # Whole numbers in the head may be followed by decimals: the columns read as numbers are read as floats.
    for i in (roles.rr, roles.time, roles.label):
        if i is not None and pa.types.is_integer(schema.types[i]):
            schema = schema.set(i, pa.field(schema.names[i], pa.float64()))
    return schema


def _rr_key(obj: dict[str, Any]) -> str | None:
    return next((key for key in obj if name_key(key)[0] in NAMES["rr"]), None)


def _beats(items: list[Any]) -> bool:
    """Objects that are beats: each has a single RR value rather than a list."""
    if not items or not all(isinstance(item, dict) for item in items):
        return False
    # Stops at the first object that is no beat (without looking at the keys of the others).
    return all((key := _rr_key(item)) is not None and not isinstance(item[key], list) for item in items)


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
                    opts.source, "a recording id appears twice", row=item.line, field=field, value=excerpt(rec.id)
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
    roles = opts.roles(
        keys,
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
        found = listing(list(samples[0]))
        raise RecordingFormatError(
            source,
            f"no RR value in the sample object (a key 'value', 'ms' or named as RR); found {found}",
            row=line,
            field=f"{path}[0]",
        )
    names = _keys_of(samples, source, lambda i, k: (line, f"{path}[{i}].{k}"))
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


def _keys_of(objects: list[dict[str, Any]], source: str, where: WhereBeat) -> list[str]:
    """The keys of objects read as the rows of a table (its columns), in order of first appearance; refused past
    ``MAX_COLUMNS`` before any column is made (each would be one, as long as the table)."""
    keys: dict[str, None] = {}
    for i, obj in enumerate(objects):
        keys.update(dict.fromkeys(obj))
        if len(keys) > MAX_COLUMNS:
            row, field = where(i, list(keys)[MAX_COLUMNS])
            raise RecordingFormatError(
                source,
                f"more than {MAX_COLUMNS} keys among the objects, the limit (each is a column)",
                row=row,
                field=field,
            )
    return list(keys)


def _beat_table(beats: list[dict[str, Any]], opts: Options, where: WhereBeat) -> Recordings:
    """Beat objects as the rows of a table: their keys are its columns."""
    import pandas as pd  # here, not at import: the fast readers need none of it (it takes 0.3 s to import)

    names = _keys_of(beats, opts.source, where)
    # Through pandas, so that a list in a cell stays one value (numpy would make it a dimension).
    columns = [pd.Series([beat.get(key) for beat in beats], dtype=object).to_numpy() for key in names]
    roles = opts.roles(names)
    for col in (roles.rr, roles.time, roles.label):
        odd = (
            None if col is None else next((i for i, v in enumerate(columns[col]) if isinstance(v, _NOT_NUMBERS)), None)
        )
        if col is not None and odd is not None:
            row, field = where(odd, names[col])
            raise RecordingFormatError(opts.source, "not a number", row=row, field=field, value=show(columns[col][odd]))
    return recordings_of(Table(names=names, columns=columns, roles=roles, where=lambda c, i: where(i, names[c])), opts)
