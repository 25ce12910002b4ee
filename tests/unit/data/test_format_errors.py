"""Refused inputs: each error names the file, line and field, the format it was taken for, and the option that helps.

The value found is shown by ``str(error)`` and left out by ``error.without_value()`` (what the service answers).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from cardiospike.data import RecordingFormatError, detect_format, parse_recordings, read_recordings
from cardiospike.data.formats import delimited
from tests.unit.data.fit_files import fit_file

#: wfdb's own writer still uses a pandas argument that pandas deprecates.
quiet_wfdb = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")


def _error(content: str | bytes, **kwargs) -> RecordingFormatError:
    with pytest.raises(RecordingFormatError) as info:
        parse_recordings(content, **kwargs)
    return info.value


@pytest.mark.parametrize(
    ("content", "source", "kwargs", "expected"),
    [
        ("id,time,rate\n1,0,800\n", "a.csv", {}, ["line 1", "missing RR column", "--rr-column"]),
        ("x,rr\n800,800\n", "a.csv", {}, ["both 'x' and 'rr'", "--rr-column"]),
        ("a,b\n1,2\n", "a.csv", {"rr_column": "c"}, ["no column 'c' (--rr-column c)", "found 'a', 'b'"]),
        ("time,x\n0,800\n800,810\n700,800\n", "a.csv", {}, ["line 4", "field 'time'", "--ignore-time"]),
        ("rr\n812\n790\n", "a.csv", {"unit": "s"}, ["RR above 100,000 ms", "--unit ms"]),
        ("rr\n812\n9999999\n", "a.csv", {}, ["line 3", "RR above 100,000 ms", "--rr-column"]),
        ("1 2 3\n4 5 6\n", "a.txt", {}, ["3 columns", "--rr-column N"]),
        ("Header\n0 812\n812 790 5\n", "a.txt", {}, ["line 3", "3 fields where the first line of numbers has 2"]),
        ("rr\n", "a.txt", {"fmt": "text"}, ["empty recording", "--format csv"]),
        ("time,rr\n08:00:00,800\nnoon,810\n", "a.csv", {}, ["line 3", "field 'time'", "not a time of day: 'noon'"]),
    ],
)
def test_errors_name_the_place_the_format_and_the_option(content, source, kwargs, expected):
    err = _error(content, source=source, **kwargs)
    text = str(err.shown_on("cli"))
    assert text.startswith(source)
    for piece in expected:
        assert piece in text, text
    assert "read as " in text


@pytest.mark.parametrize(
    ("content", "source", "taken"),
    [
        ("id,x\n1,abc\n", "a.csv", "read as csv, from the extension .csv"),
        ("800\nabc\n", "upload", "read as text, from the content"),
        ("id,x\n1,abc\n", "upload", "read as csv, from the content"),
        ("[Params]\nInterval=238\n[HRData]\nabc\n", "upload", "read as hrm, from the content"),
    ],
)
def test_errors_say_which_format_the_file_was_taken_for(content, source, taken):
    err = _error(content, source=source)
    assert taken in str(err)
    assert "not a number: 'abc'" in str(err)
    assert "'abc'" not in err.without_value()
    assert taken in err.without_value()


def test_a_layout_error_suggests_another_format():
    err = _error("Header line\nother header\n", source="upload")
    assert "--format csv" in str(err.shown_on("cli"))


@pytest.mark.parametrize(
    ("surface", "named"),
    [
        ("python", 'rr_column="NAME"'),
        ("cli", "--rr-column NAME"),
        ("rest", '"rr_column": "NAME"'),
        ("web", "RR column: NAME"),
    ],
)
def test_a_hint_names_the_option_as_the_surface_that_shows_it(surface, named):
    err = _error("id,time,rate\n1,0,800\n", source="a.csv")
    assert named in str(err.shown_on(surface))
    others = {"python": "rr_column=", "cli": "--rr-column", "rest": '"rr_column"', "web": "RR column: NAME"}
    assert not any(text in str(err) for s, text in others.items() if s != surface)
    assert named in err.without_value()


def test_a_fresh_error_names_options_as_python_does():
    assert 'unit="ms"' in str(_error("rr\n812\n790\n", source="a.csv", unit="s"))


@pytest.mark.parametrize(
    ("content", "source", "other"),
    [
        ("id,time,x\n", "upload.csv", "--format text reads it as text"),
        ('{"rr": 800}', "upload", "--format ndjson reads it as ndjson"),
        ("[1]\n[2]\n", "upload.ndjson", "--format json reads it as json"),
    ],
)
def test_only_a_layout_error_of_a_sniffed_format_names_another(content, source, other):
    assert _error(content, source=source).structural
    assert other in str(_error(content, source=source).shown_on("cli"))
    assert other not in str(_error(content, source=source, fmt=detect_format(content, source)).shown_on("cli"))
    value = _error("id,x\n1,800\n1,-3\n", source="upload")  # a bad value: the layout is right
    assert not value.structural
    assert "reads it as" not in str(value)


def test_zero_is_kept_negative_refused_in_every_format():
    assert parse_recordings("rr\n800\n0\n")[0].rr.tolist() == [800, 0]
    for content, fmt in (("rr\n800\n-1\n", "csv"), ("800\n-1\n", "text"), ("[800, -1]", "json")):
        assert "RR must not be negative" in str(_error(content, fmt=fmt))


def test_polar_hrm_of_heart_rate_samples_is_refused():
    err = _error("[Params]\nVersion=106\nInterval=5\n[HRData]\n81\n", source="s.hrm")
    assert "Interval=5: heart rate samples, not RR intervals" in str(err)
    assert "line" not in str(err)


def test_json_errors():
    err = _error(json.dumps({"data": {"rr": [800, True]}}), source="a.json")
    assert err.field == "data.rr[1]"
    err = _error(json.dumps([{"rr": 800, "id": "a"}, {"rr": [1], "id": "a"}]))  # a beat, then a recording
    assert (err.field, err.problem) == ("[0].rr", "expected a list of numbers")
    err = _error(json.dumps({"time": [1, 2]}), source="a.json")
    assert "missing RR values" in str(err)
    assert 'rr_column="NAME"' in str(err)


def test_ndjson_errors_name_the_line():
    err = _error('{"rr": 800}\n{"rr": 810\n', source="a.ndjson")
    assert err.row == 2
    assert "malformed JSON" in str(err)
    err = _error('{"rr": 800}\n{"rr": "x"}\n', source="a.ndjson")
    assert (err.row, err.field) == (2, "rr")


def test_npy_object_arrays_and_other_shapes_are_refused():
    buf = io.BytesIO()
    np.save(buf, np.array([{"rr": 1}], dtype=object), allow_pickle=True)
    assert "Python objects" in str(_error(buf.getvalue(), source="a.npy"))
    buf = io.BytesIO()
    np.save(buf, np.zeros((3, 3, 3)))
    assert "shape (3, 3, 3)" in str(_error(buf.getvalue(), source="a.npy"))
    buf = io.BytesIO()
    np.save(buf, np.array([800.0, np.nan]))
    err = _error(buf.getvalue(), source="a.npy")
    assert (err.field, err.problem) == ("[1]", "not a finite number")


def test_fit_errors():
    pytest.importorskip("fitdecode", reason="the 'fit' extra (fitdecode) is not installed")
    assert "no beat-to-beat intervals" in str(_error(fit_file([]), source="a.fit"))
    broken = bytearray(fit_file([[800, 810]]))
    broken[-5] ^= 0xFF
    assert "not a readable FIT file" in str(_error(bytes(broken), source="a.fit"))


@quiet_wfdb
def test_wfdb_without_a_sampling_frequency(tmp_path: Path):
    wfdb = pytest.importorskip("wfdb", reason="the 'wfdb' extra is not installed")
    wfdb.wrann("7", "atr", np.array([10, 200, 400]), np.array(list("NNN")), write_dir=str(tmp_path))
    with pytest.raises(RecordingFormatError, match="no sampling frequency"):
        read_recordings(tmp_path / "7.atr")
    with pytest.raises(RecordingFormatError, match="not a WFDB annotation file"):
        parse_recordings(b"\x00\x01\x02", source="x.atr")


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch):
    import builtins

    real = builtins.__import__

    def without_fitdecode(name: str, *args, **kwargs):
        if name == "fitdecode":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_fitdecode)
    assert "pip install 'cardiospike[fit]'" in str(_error(fit_file([[800]]), source="a.fit"))


def test_unknown_unit_is_refused():
    assert "unknown unit" in str(_error("800\n", unit="us"))


def test_recordings_are_counted_before_any_is_built(monkeypatch: pytest.MonkeyPatch):
    def never(*args, **kwargs):
        raise AssertionError("recordings built before they were counted")

    monkeypatch.setattr(delimited, "recordings_of", never)
    content = b"id,x\n" + b"".join(b"%d,800\n" % i for i in range(5000))
    with pytest.raises(RecordingFormatError, match="5000 recordings, more than the limit of 100"):
        parse_recordings(content, source="m.csv", max_recordings=100)


@pytest.mark.parametrize(
    ("content", "row"),
    [
        ("id,x\n1,800\n\n\n1,abc\n", 5),  # blank lines: the fast path's row numbers are not lines
        ('id,x\n"1\nb",800\n1,-5\n', 4),  # a line break inside a quoted id
        ("id,x\n1,800\n , \n1,-5\n", 4),  # a row of blanks is skipped
    ],
)
def test_errors_name_the_true_line_whatever_the_layout(content: str, row: int):
    err = _error(content, source="a.csv")
    assert err.row == row
