"""Hostile inputs: each is read, or refused with a RecordingFormatError, in time linear in its size, and no message
is a copy of it.

The inputs are sized as they once stalled or misled the readers (a 48 KB Polar HRM file took
4 s, a line of 600,000 numbers 37 s, an NDJSON line of 100,000 keys 11 s, a 140 KB Parquet file 257 s and 13 GiB);
each must now take well under :data:`BOUND` seconds. pandas is imported here, as the service has it imported: the
bound is on the reading, not on a first import.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd  # noqa: F401 (imported before any timing, see the module docstring)
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cardiospike.data import RecordingFormatError, parse_recordings, read_recordings
from cardiospike.data import io as data_io
from cardiospike.data.errors import SHOWN
from cardiospike.data.formats import READERS, Recordings, parquet
from cardiospike.data.formats.checks import excerpt, listing
from cardiospike.data.formats.columns import looks_like_time_of_day
from cardiospike.data.formats.text import data_like

#: Seconds any hostile input may take to be read or refused (generous: each takes a fraction of it).
BOUND = 1.0
#: Longest message an error of a hostile input may give (its parts are bounded: see cardiospike.data.errors.SHOWN).
LONGEST = 2_000


@contextmanager
def quickly(bound: float = BOUND) -> Iterator[None]:
    start = time.perf_counter()
    yield
    took = time.perf_counter() - start
    assert took < bound, f"took {took:.2f} s"


def _refused(content: str | bytes, **kwargs: object) -> RecordingFormatError:
    with quickly(), pytest.raises(RecordingFormatError) as info:
        parse_recordings(content, **kwargs)  # type: ignore[arg-type]
    error = info.value
    assert len(str(error)) < LONGEST
    assert len(error.without_value()) < LONGEST
    return error


# Polar HRM ------------------------------------------------------------------------------------------------------


def _hrm(hrdata: str, interval: str = "238") -> str:
    return f"[Params]\nVersion=106\nInterval={interval}\n[HRData]\n{hrdata}"


@pytest.mark.parametrize("kilobytes", [48, 84, 120])
def test_a_wide_hrm_line_is_refused_at_once(kilobytes: int):
    # Half the bytes on one line of tokens, half on lines of RR: the reader made a column per token, each as long
    # as the file (4 s, 20 s and 40 s before; 1.7 and 3.2 GB).
    size = kilobytes * 1000
    error = _refused(_hrm("1 " * (size // 4) + "\n" + "800\n" * (size // 8)), source="a.hrm")
    assert "more than the 16 columns a Polar HRM file has" in str(error)
    assert error.row == 5


def test_hrm_reads_lines_of_other_lengths_and_many_lines_quickly():
    (rec,) = parse_recordings(_hrm("800 1\n810\n820 3 4\n"), source="a.hrm", keep_columns=True)
    np.testing.assert_array_equal(rec.rr, [800, 810, 820])
    with quickly():
        (rec,) = parse_recordings(_hrm("812\n" * 300_000), source="a.hrm")
    assert len(rec) == 300_000
    error = _refused(_hrm("800\n810\nabc\n"), source="a.hrm")
    assert (error.row, error.field, error.value) == (7, "rr", "'abc'")


def test_an_hrm_interval_of_a_megabyte_is_not_quoted():
    error = _refused(_hrm("800\n", interval="x" * 1_000_000), source="a.hrm")
    assert "Interval=xxxx" in str(error)
    assert len(str(error)) < 300


def test_the_last_hrm_interval_counts_as_in_a_dict():
    assert len(parse_recordings(_hrm("800\n", interval="5\nInterval=238"), source="a.hrm")[0]) == 1
    assert "Interval=5:" in str(_refused(_hrm("800\n", interval="238\nInterval=5"), source="a.hrm"))


# Text --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [400_000, 600_000, 2_000_000])
def test_a_row_of_numbers_of_any_length_is_read_in_linear_time(n: int):
    # Longer than a block of pyarrow's reader (1 MiB), the line went to the careful path, one column per number:
    # 37.6 s for 600,000, over 120 s for 2,000,000 (8 MB).
    row = ", ".join(str(800 + i % 50) for i in range(n)) + "\n"
    with quickly():
        (rec,) = parse_recordings(row, source="pasted.txt")
    assert len(rec) == n
    assert rec.rr[-1] == 800 + (n - 1) % 50


def test_the_careful_path_reads_a_long_row_as_one_value_per_beat():
    # "+812" is a number to the text reader but not to pyarrow's cast: the careful path reads the row.
    with quickly():
        (rec,) = parse_recordings(" ".join(["+812"] * 600_000), source="pasted.txt")
    assert len(rec) == 600_000


def test_a_bad_value_in_a_long_row_is_named_by_its_line_and_place():
    error = _refused(", ".join(["812"] * 600_000) + ", abc, 800\n", source="pasted.txt")
    assert (error.row, error.field, error.value) == (1, "value 600001", "'abc'")
    wrapped = ", ".join(["812"] * 600_000) + "\n" + ", ".join(["812"] * 1_000) + ", 8x2\n"
    error = _refused(wrapped, source="pasted.txt")
    assert (error.row, error.field, error.value) == (2, "value 1001", "'8x2'")
    # A short row names the place as well, on either path.
    assert _refused("812 790 -5\n", source="a.txt").field == "value 3"
    assert _refused("812, 790\n805, abc, 800\n", source="a.txt").field == "value 2"


@pytest.mark.parametrize(
    "content",
    [
        (" ".join(["812"] * 100_000) + "\n") * 3,  # lines of one length: columns, as many as numbers
        "RR\n" + " ".join(["812"] * 600_000) + "\n",  # a header line: columns too
    ],
)
def test_text_columns_are_capped(content: str):
    error = _refused(content, source="a.txt")
    assert "more than the limit of 256 columns" in str(error)


def _data_like_by_fields(line: str) -> bool:
    """The rule data_like implements: every field (split at spaces, tabs, ; and ,) a number or a time of day."""
    number = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)([eE][-+]?\d+)?$|^[-+]?(inf|nan)$", re.IGNORECASE)
    fields = [f for f in re.split(r"[\s;,]+", line.strip()) if f]
    return bool(fields) and all(number.match(f) or looks_like_time_of_day(f) for f in fields)


def test_data_like_is_the_rule_by_fields_in_linear_time():
    rng = random.Random(7)
    alphabet = list("0123456789" * 3 + ".,;: \t-+eETinfaNx\u00a0/")
    starts = ["812", "08:00:00.5", "2021-03-08T12:00:00", "1e3", "-inf", "NaN", "0,812", "12:00", ""]
    for _ in range(20_000):
        line = rng.choice(starts) + rng.choice(" ,;\t") + "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
        assert data_like(line) == _data_like_by_fields(line), repr(line)
    for line in ("812, " * 600_000 + "abc", "1" * 8_000_000 + "x", "12:00:00 " * 500_000 + "x"):
        with quickly():
            assert not data_like(line)


# JSON and NDJSON ---------------------------------------------------------------------------------------------------


def test_an_object_of_200_000_keys_is_refused_without_listing_them():
    error = _refused(json.dumps({f"k{i}": 1 for i in range(200_000)}), source="a.json")
    assert "an object of 200,000 keys, more than the limit of 1,000" in str(error)


def test_ndjson_lines_of_100_000_keys_are_refused_before_any_work_per_key():
    line = json.dumps({f"k{i}": 1 for i in range(100_000)})
    error = _refused(f"{line}\n{line}\n", source="a.ndjson")
    assert (error.row, "more than the limit of 1,000" in str(error)) == (1, True)


@pytest.mark.parametrize(
    ("content", "source", "row"),
    [
        ('{"rr": [800, 810], "rr": [900, 910]}', "a.json", None),
        ('[{"rr": 800}, {"rr": 810, "rr": 820}]', "a.json", None),
        ('{"rr": 800}\n{"rr": 810, "rr": 820}\n', "a.ndjson", 2),  # pyarrow refuses it; the careful path names it
        ('{"rr": [800], "id": "a", "id": "b"}\n', "a.ndjson", 1),
    ],
)
def test_a_key_twice_in_an_object_is_refused(content: str, source: str, row: int | None):
    # json keeps the last value silently: which one was meant?
    error = _refused(content, source=source)
    assert "appears twice in an object" in str(error)
    assert error.row == row


@pytest.mark.parametrize(
    ("key", "row", "problem"),
    [
        ("k{i}_{j}", 4, "more than 1,000 different keys among the objects, the limit"),  # other keys on every line
        ("k{j}", 1, "more than 256 keys among the objects, the limit (each is a column)"),  # the same 300 keys
    ],
)
def test_objects_of_many_keys_among_them_are_refused_before_work_per_key(key: str, row: int, problem: str):
    # 300 keys each, under the limit of an object: with other keys on every line, a column per key, each as long
    # as the file (223 s for 10 MB before).
    lines = [json.dumps({**{key.format(i=i, j=j): 1 for j in range(300)}, "rr": 800}) for i in range(2_000)]
    error = _refused("\n".join(lines), source="a.ndjson")
    assert problem in str(error)
    assert error.row == row
    error = _refused("[" + ",".join(lines) + "]", source="a.json")
    assert problem in str(error)


def test_ndjson_beats_read_by_their_first_lines_columns():
    beats = "".join(json.dumps({"time": i * 800, "rr": 800}) + "\n" for i in range(1_000))
    decimal = '{"time": 800000, "rr": 812.5}\n'  # a float after whole numbers: still a column of numbers
    (rec,) = parse_recordings(beats + decimal, source="a.ndjson")
    assert len(rec) == 1_001
    assert rec.rr[-1] == 812.5
    extra = '{"time": 800000, "rr": 810, "note": "new"}\n'  # a key the first lines lack: the careful path
    recordings = parse_recordings(beats + extra, source="a.ndjson", keep_columns=True)
    assert recordings.extra is not None
    assert recordings.extra["note"].iloc[-1] == "new"


def test_missing_rr_lists_ten_names_and_how_many_more():
    error = _refused(json.dumps({f"key{i}": 1 for i in range(500)}), source="a.json")
    assert "found 'key0', 'key1'" in str(error)
    assert "'key9' and 490 more" in str(error)
    assert "key10" not in str(error)


# Content echoed in errors -----------------------------------------------------------------------------------------


def test_excerpts_are_short_and_on_one_line():
    assert excerpt("x" * 1_000_000) == "'" + "x" * 37 + "...'"
    assert excerpt("a\nb\x00\u2028") == "'a\\nb\\x00\\u2028'"
    assert excerpt("Interval", quoted=False) == "Interval"
    assert excerpt(list(range(1_000_000))) == "[0, 1, 2, 3, ...]"
    assert listing(["a", "b"]) == "'a', 'b'"
    assert listing([f"n{i}" for i in range(12)]).endswith("'n9' and 2 more")


@pytest.mark.parametrize(
    ("content", "source", "kwargs"),
    [
        ("time," + "n" * 1_000_000 + "\n0,800\n", "a.csv", {}),  # no RR column: the names found are listed
        ("a,b\n1,2\n", "a.csv", {"rr_column": "c" * 1_000_000}),  # no column of the name asked for
        ("x\x00" * 500_000 + ",rr\n800,800\n", "a.csv", {}),  # control characters in a name
        ('{"' + "k" * 1_000_000 + '": 1}', "a.json", {}),  # a key of a megabyte
        ('{"id": "' + "i" * 1_000_000 + '", "rr": [800]}\n' * 2, "a.ndjson", {}),  # an id twice
        ("rr\n812\n" + "é" * 1_000_000 + "\n", "a.csv", {}),  # a value
    ],
)
def test_no_message_quotes_more_than_an_excerpt(content: str, source: str, kwargs: dict[str, str]):
    error = _refused(content, source=source, **kwargs)
    for message in (str(error), error.without_value()):
        assert len(message) < 1_200, message[:200]
        assert message.isprintable()


def test_every_part_of_a_message_is_bounded():
    error = RecordingFormatError("f" * 10_000, "p\n" * 10_000, row=1, field="k" * 10_000, value="v" * 10_000)
    text = str(error)
    assert len(text) < sum(SHOWN.values()) + 200
    assert "\n" not in text
    assert "\\n" in text


# Parquet -----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 million rows of one value in about 100 KB of zstd pages: a decompression bomb."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.parquet"
    chunk = pa.table({"x": np.full(1_000_000, 800.0)})
    with pq.ParquetWriter(path, chunk.schema, compression="zstd", use_dictionary=False) as writer:
        for _ in range(20):
            writer.write_table(chunk)
    assert path.stat().st_size < 1_000_000
    return path


def test_a_parquet_file_of_more_rows_than_the_limit_is_refused_by_its_footer(bomb: Path):
    # predict took 257 s and 13.2 GiB for it before.
    with quickly(), pytest.raises(RecordingFormatError, match="20,000,000 rows, more than the limit of 10,000,000"):
        read_recordings(bomb)


def test_a_parquet_column_that_expands_past_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "big.parquet"
    table = pa.table({"x": np.full(200_000, 800.0), "note": ["n"] * 200_000})
    pq.write_table(table, path, compression="zstd", use_dictionary=False)  # stored as 1.6 MB of values
    monkeypatch.setattr(parquet, "MAX_COLUMN_BYTES", 1_000_000)  # the 1.6 MB of x
    with pytest.raises(RecordingFormatError, match=r"column 'x' would decompress to [\d,]+ bytes, more than"):
        read_recordings(path)
    monkeypatch.setattr(parquet, "MAX_COLUMN_BYTES", 2_000_000)
    assert len(read_recordings(path)[0]) == 200_000  # "note" is not read, nor counted


@pytest.mark.parametrize(
    ("columns", "named"),
    [
        ({"id": pa.array([{"a": 1}, {"a": 2}]), "x": [800.0, 810.0]}, "column 'id' holds struct<a: int64> values"),
        ({"id": pa.array([[1], [2]]), "x": [800.0, 810.0]}, "column 'id' holds list<element: int64> values"),
        ({"x": pa.array([[800.0], [810.0]])}, "column 'x' holds list<element: double> values, not numbers"),
        ({"x": pa.array([{"a": 800.0}, {"a": 810.0}])}, "column 'x' holds struct<a: double> values, not numbers"),
        ({"x": [800.0, 810.0], "y": pa.array([[0], [1]])}, "column 'y' holds list<element: int64> values"),
    ],
)
def test_parquet_columns_of_lists_or_structs_are_refused_by_name_and_type(tmp_path: Path, columns, named: str):
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table(columns), path)
    with pytest.raises(RecordingFormatError, match=re.escape(named)):
        read_recordings(path)


def test_parquet_text_repeated_past_the_limit_is_refused_before_it_is_copied(tmp_path: Path):
    # Stored once in a dictionary, a value of 1,000 characters on each of 300,000 rows is 300 MB of text.
    path = tmp_path / "ids.parquet"
    ids = pa.DictionaryArray.from_arrays(np.zeros(300_000, dtype=np.int32), ["i" * 1_000])
    pq.write_table(pa.table({"id": ids, "x": np.full(300_000, 800.0)}), path, compression="zstd")
    assert path.stat().st_size < 1_000_000
    with quickly(), pytest.raises(RecordingFormatError, match=r"column 'id' holds 300,000,000 bytes of text"):
        read_recordings(path)


def test_parquet_rr_as_text_is_still_read(tmp_path: Path):
    path = tmp_path / "text.parquet"
    pq.write_table(pa.table({"x": ["800", "810"]}), path)
    np.testing.assert_array_equal(read_recordings(path)[0].rr, [800, 810])


# Every reader error is a RecordingFormatError --------------------------------------------------------------------


def _raising(exc: BaseException) -> Callable[..., Recordings]:
    def read(*args: object) -> Recordings:
        raise exc

    return read


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("secret content"),
        IndexError("secret content"),
        KeyError("secret content"),
        TypeError("secret content"),
        OverflowError("secret content"),
        UnicodeDecodeError("utf-8", b"secret content", 0, 1, "secret"),
        RecursionError("secret content"),
        MemoryError("secret content"),
        pa.ArrowInvalid("secret content"),
    ],
)
def test_any_error_of_a_reader_is_a_recording_format_error_without_its_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, exc: Exception
):
    monkeypatch.setitem(READERS, "text", replace(READERS["text"], read=_raising(exc)))
    error = _refused("800\n810\n", source="a.txt")
    assert f"cannot be read as text: malformed input ({type(exc).__name__})" in str(error)
    assert "secret" not in str(error)
    assert "read as text, from the content" in str(error)

    monkeypatch.setattr(data_io, "read_parquet", _raising(exc))
    path = tmp_path / "a.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(RecordingFormatError, match=r"cannot be read as parquet: malformed input") as info:
        read_recordings(path)
    assert "secret" not in str(info.value)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)])
def test_an_interrupt_is_no_format_error(monkeypatch: pytest.MonkeyPatch, exc: BaseException):
    monkeypatch.setitem(READERS, "text", replace(READERS["text"], read=_raising(exc)))
    with pytest.raises(type(exc)):
        parse_recordings("800\n810\n", source="a.txt")


def test_a_json_number_too_long_to_read_is_a_format_error():
    error = _refused('{"rr": [' + "9" * 5_000 + "]}", source="a.json")
    assert "a number too long to read" in str(error)
