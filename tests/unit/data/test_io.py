import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from cardiospike.data.io import (
    RecordingFormatError,
    detect_format,
    parse_recordings,
    read_recordings,
    recordings_to_frame,
)
from cardiospike.data.output import OutputError, write_csv_atomic
from cardiospike.recording import Recording

COMPETITION = "id,time,x,y\n1,0,800,0\n1,780,780,0\n1,1572,792,1\n2,0,600,0\n2,610,610,1\n"


def test_competition_csv_many_recordings():
    recs = parse_recordings(COMPETITION, source="train.csv")
    assert [r.id for r in recs] == ["1", "2"]
    np.testing.assert_array_equal(recs[0].rr, [800, 780, 792])
    np.testing.assert_array_equal(recs[0].time, [0, 780, 1572])
    assert recs[1].labels is not None
    np.testing.assert_array_equal(recs[1].labels, [0, 1])


def test_csv_without_time_uses_cumulative_rr():
    (rec,) = parse_recordings("rr\n800\n810\n790\n", source="one.csv", default_id="one")
    assert rec.id == "one"
    np.testing.assert_array_equal(rec.time, [0, 810, 1600])
    assert rec.labels is None


def test_csv_semicolon_and_case_and_blank_lines():
    (rec,) = parse_recordings("RR ; Time\n800;0\n\n810;810\n", source="a.csv")
    np.testing.assert_array_equal(rec.rr, [800, 810])


def test_csv_keeps_file_order_of_recordings():
    recs = parse_recordings("id,x\nb,800\nb,810\na,700\n", source="a.csv")
    assert [r.id for r in recs] == ["b", "a"]
    np.testing.assert_array_equal(recs[0].rr, [800, 810])


def test_ignoring_time_retimes_beats_by_rr():
    # As in welltory.csv: a recording's first time is left over from the recording before it.
    content = "id,time,x\n1,0,800\n1,800,810\n2,1610,700\n2,700,710\n"
    with pytest.raises(RecordingFormatError, match="time is not increasing"):
        parse_recordings(content, source="w.csv")
    recs = parse_recordings(content, source="w.csv", use_time=False)
    np.testing.assert_array_equal(recs[1].time, [0, 710])
    (rec,) = parse_recordings('{"rr": [800, 810], "time": [5, 1]}', use_time=False)
    np.testing.assert_array_equal(rec.time, [0, 810])


def test_plain_text_one_rr_per_line_with_comments():
    (rec,) = parse_recordings("# exported\n812\n 790 \n\n805\n", source="kubios.txt", default_id="kubios")
    np.testing.assert_array_equal(rec.rr, [812, 790, 805])
    assert rec.id == "kubios"


@pytest.mark.parametrize(
    ("doc", "ids"),
    [
        ([800, 810, 790], ["rec"]),
        ({"id": "a", "rr": [800, 810], "time": [0, 810], "y": [0, 1]}, ["a"]),
        ({"study": "s", "sequence": [800, 810]}, ["s"]),
        ([{"id": "a", "rr": [800]}, {"id": "b", "rr": [700, 710]}], ["a", "b"]),
    ],
)
def test_json_shapes(doc, ids):
    recs = parse_recordings(json.dumps(doc), source="x.json", default_id="rec")
    assert [r.id for r in recs] == ids


def test_read_recordings_from_files(tmp_path: Path):
    (tmp_path / "a.csv").write_text(COMPETITION)
    (tmp_path / "b.txt").write_text("800\n810\n")
    (tmp_path / "c.json").write_text("[800, 810]")
    assert len(read_recordings(tmp_path / "a.csv")) == 2
    assert read_recordings(tmp_path / "b.txt")[0].id == "b"
    assert read_recordings(tmp_path / "c.json")[0].id == "c"


@pytest.mark.parametrize(
    ("content", "source", "expected"),
    [
        ("[1]", "f", "json"),
        ("800\n810", "f.txt", "text"),
        ("x\n800", "f", "csv"),
        ("800\n810", "f.csv", "csv"),
        ("", "f.json", "json"),
    ],
)
def test_detect_format(content, source, expected):
    assert detect_format(content, source) == expected


# --- bad input: each names the file, the line and the field ------------------------------------------------------

BAD_CSV = [
    ("", None, None, "file is empty"),
    ("id,time,x\n", None, None, "no data rows"),
    ("id,time,rate\n1,0,800\n", 1, None, "missing RR column"),
    ("x,rr\n800,800\n", 1, None, "both 'x' and 'rr'"),
    ("x,x\n800,800\n", 1, None, "appears twice"),
    ("id,x\n1,800\n1,abc\n", 3, "x", "not a number: 'abc'"),
    ("id,x\n1,800\n1,\n", 3, "x", "empty value"),
    ("id,x\n1,800\n1,inf\n", 3, "x", "not a finite number"),
    ("id,x\n1,800\n\n1,-3\n", 4, "x", "RR must not be negative: -3"),
    ("id,x\n1,800\n1,800000\n", 3, "x", "RR above 100,000 ms is no heart beat interval in milliseconds"),
    ("id,x,y\n1,800,0\n1,800,2\n", 3, "y", "label must be 0 or 1"),
    ("id,time,x\n1,0,800\n1,800,800\n1,800,800\n", 4, "time", "duplicated (id, time)"),
    ("id,time,x\n1,0,800\n1,800,800\n1,700,800\n", 4, "time", "time is not increasing"),
    ("id,time,x\n1,0,800\n,800,800\n", 3, "id", "empty recording id"),
    ("id,x\n1,800,5\n", None, None, "malformed CSV"),
    ("id,x\n1,800\n2,800\n1,810\n", 4, "id", "not together (keep each recording's rows consecutive): recording '1'"),
]


@pytest.mark.parametrize(("content", "row", "field", "problem"), BAD_CSV)
def test_bad_csv_is_a_clear_error(content, row, field, problem):
    with pytest.raises(RecordingFormatError) as info:
        parse_recordings(content, source="bad.csv")
    err = info.value
    assert problem in str(err)
    assert str(err).startswith("bad.csv")
    assert err.row == row
    assert err.field == field


BAD_JSON = [
    ("[800, ", "malformed JSON", None),
    ('"800"', "expected a list", None),
    ("[]", "empty recording", "rr"),
    ('{"rr": []}', "empty recording", "rr"),
    ('{"time": [0]}', "missing RR values", None),
    ('{"rr": [800, "a"]}', "not a number: 'a'", "rr[1]"),
    ('{"rr": [800, true]}', "not a number", "rr[1]"),
    ('{"rr": [800, -1]}', "RR must not be negative", "rr[1]"),
    ('{"rr": 800}', "expected a list of numbers", "rr"),
    ('{"rr": [800, 810], "times": [0]}', "1 times for 2 RR values", "times"),
    ('{"rr": [800, 810], "times": [5, 5]}', "time is not increasing", "times[1]"),
    ('{"rr": [800, 810], "y": [0, 3]}', "label must be 0 or 1", "y[1]"),
    ('{"rr": [800], "sequence": [800]}', "both 'rr' and 'sequence'", None),
    ('[{"id": "a", "rr": [800]}, {"id": "a", "rr": [800]}]', "appears twice", "[1].id"),
    ('[{"id": "a", "rr": [800]}, {"id": "b", "rr": [1e6]}]', "RR above 100,000 ms", "[1].rr[0]"),
]


@pytest.mark.parametrize(("content", "problem", "field"), BAD_JSON)
def test_bad_json_is_a_clear_error(content, problem, field):
    with pytest.raises(RecordingFormatError) as info:
        parse_recordings(content, source="bad.json")
    assert problem in str(info.value)
    assert info.value.field == field


def test_json_nan_is_not_finite():
    with pytest.raises(RecordingFormatError, match="not a finite number"):
        parse_recordings('{"rr": [800, NaN]}', source="bad.json")


@pytest.mark.parametrize(
    ("content", "row", "problem"),
    [
        ("800\nabc\n", 2, "not a number"),
        ("800\n\n-3\n", 3, "RR must not be negative"),
        ("# only a comment\n", None, "empty"),
    ],
)
def test_bad_text(content, row, problem):
    with pytest.raises(RecordingFormatError) as info:
        parse_recordings(content, source="bad.txt")
    assert problem in str(info.value)
    assert info.value.row == row


def test_missing_file_and_binary_content(tmp_path: Path):
    with pytest.raises(RecordingFormatError, match="no such file"):
        read_recordings(tmp_path / "nope.csv")
    with pytest.raises(RecordingFormatError, match="not UTF-8"):
        parse_recordings(b"x\n\x80\x81\n", source="bin.csv")
    with pytest.raises(RecordingFormatError, match="unknown format"):
        parse_recordings("800", fmt="xml")  # type: ignore[arg-type]


def test_out_of_range_rr_is_kept_not_dropped():
    (rec,) = parse_recordings("x\n800\n12\n40900\n", source="a.csv")
    np.testing.assert_array_equal(rec.rr, [800, 12, 40900])


def test_write_csv_atomic_round_trip_and_integers(tmp_path: Path):
    recs = parse_recordings(COMPETITION, source="train.csv")
    target = tmp_path / "out" / "scored.csv"
    target.parent.mkdir()  # an output's folder must exist (tests/unit/cli/test_outputs.py)
    write_csv_atomic(recordings_to_frame(recs), target)
    text = target.read_text()
    assert text.splitlines()[1] == "1,0,800,0"
    again = read_recordings(target)
    assert [r.id for r in again] == ["1", "2"]
    assert list(tmp_path.joinpath("out").iterdir()) == [target]


def test_write_csv_atomic_leaves_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "scored.csv"
    target.write_text("old\n")

    def disk_full(fd: int) -> None:  # as the system says it where the data written cannot be kept
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    table = recordings_to_frame([Recording.from_rr([800.0])])
    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", disk_full)  # the disk fills up as the new file is flushed to it
        with pytest.raises(OutputError, match=r"cannot write .*scored\.csv: No space left on device"):
            write_csv_atomic(table, target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["scored.csv"]
