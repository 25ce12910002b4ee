"""Garmin FIT SDK ``FitCSVTool`` exports, written by the tests as the tool writes them: the RR of the hrv messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiospike.data import RecordingFormatError, parse_recordings, read_recordings
from cardiospike.data.formats import sniff
from cardiospike.data.formats.base import Content
from cardiospike.data.formats.fitcsv import is_fitcsv

HEADER = "Type,Local Number,Message,Field 1,Value 1,Units 1,Field 2,Value 2,Units 2,Field 3,Value 3,Units 3,"
#: hrv messages as the tool writes their time field: five places, the unused ones padded with 65.535.
HRV = ["0.812|0.790|0.805|1.210|0.640", "0.702|0.733|65.535|65.535|65.535", "65.535", "0.755"]
RR = [812, 790, 805, 1210, 640, 702, 733, 755]


def fitcsv(hrv: list[str] = HRV, units: str = "s", end: str = "\n") -> str:
    """A FitCSVTool export: file_id, event, record (rows longer than the header), lap, session and hrv messages."""
    rows = [
        HEADER,
        "Definition,0,file_id,serial_number,1,,time_created,1,,manufacturer,1,,type,1,,",
        'Data,0,file_id,serial_number,"3912345678",,time_created,"1009566428",,manufacturer,"1",,type,"4",,',
        "Definition,1,event,timestamp,1,,event,1,,event_type,1,,",
        'Data,1,event,timestamp,"1009566428",s,event,"0",,event_type,"0",,',
        "Definition,2,record,timestamp,1,,heart_rate,1,,distance,1,,speed,1,,",
        "Definition,3,hrv,time,5,,",
    ]
    for i, values in enumerate(hrv):
        rows.append(
            f'Data,2,record,timestamp,"{1009566429 + i}",s,heart_rate,"74",bpm,distance,"{i}.5",m,speed,"1",m/s,'
        )
        rows.append(f'Data,3,hrv,time,"{values}",{units},')
    rows += [
        'Data,4,lap,timestamp,"1009566500",s,total_elapsed_time,"71.0",s,',
        'Data,5,session,timestamp,"1009566500",s,sport,"1",,avg_heart_rate,"74",bpm,',
        "",
    ]
    return end.join(rows)


def test_fitcsv_hrv_messages_read_in_seconds_padding_dropped():
    recs = parse_recordings(fitcsv(), source="activity.csv")
    assert recs.format == "csv"
    (rec,) = recs
    assert rec.id == "recording"
    np.testing.assert_allclose(rec.rr, RR)
    np.testing.assert_allclose(rec.time, np.cumsum(RR) - RR[0])  # no times in hrv messages: the sum of RR
    assert rec.unit == "s"
    assert recs.unit == "s"
    assert recs.unit_note is not None
    assert "seconds" in recs.unit_note


def test_fitcsv_file_id_is_the_file_name(tmp_path: Path):
    path = tmp_path / "morning-run.csv"
    path.write_text(fitcsv())
    (rec,) = read_recordings(path)
    assert rec.id == "morning-run"
    np.testing.assert_allclose(rec.rr, RR)


@pytest.mark.parametrize("source", ["upload", "activity.txt", "activity.csv"])
def test_fitcsv_sniffed_from_its_header(source: str):
    content = fitcsv()
    assert sniff(Content(content, source), source)[0] == "csv"
    recs = parse_recordings(content, source=source)
    assert recs.format == "csv"
    np.testing.assert_allclose(recs[0].rr, RR)


def test_fitcsv_read_as_csv_when_asked_with_crlf_and_a_byte_order_mark():
    content = ("\ufeff" + fitcsv(end="\r\n")).encode("utf-8")
    recs = parse_recordings(content, source="upload", fmt="csv")
    assert recs.taken_as == "read as csv, as asked"
    np.testing.assert_allclose(recs[0].rr, RR)


def test_fitcsv_in_milliseconds_and_padding_as_65535():
    recs = parse_recordings(fitcsv(["812|790|65535|65535|65535", "805"], units="ms"), source="a.csv")
    np.testing.assert_array_equal(recs[0].rr, [812, 790, 805])
    assert recs.unit == "ms"


def test_fitcsv_rows_of_padding_only_give_no_beats():
    hrv = ["65.535|65.535|65.535|65.535|65.535", "0.812|0.790", "65.535", "0.805|65.535"]
    np.testing.assert_allclose(parse_recordings(fitcsv(hrv), source="a.csv")[0].rr, [812, 790, 805])


def test_fitcsv_keeps_the_hrv_times_as_read():
    recs = parse_recordings(fitcsv(), source="a.csv", keep_columns=True)
    assert recs.extra is not None
    np.testing.assert_allclose(recs.extra["hrv.time"], np.array(RR) / 1000)


def test_fitcsv_without_hrv_messages_is_refused():
    content = "\n".join(line for line in fitcsv().split("\n") if ",hrv," not in line)
    with pytest.raises(RecordingFormatError, match="without hrv messages: the device recorded no RR") as err:
        parse_recordings(content, source="walk.csv")
    assert err.value.source == "walk.csv"
    assert str(err.value).startswith("walk.csv: ")


def test_fitcsv_of_padding_only_is_refused():
    with pytest.raises(RecordingFormatError, match="no RR intervals, only padding"):
        parse_recordings(fitcsv(["65.535|65.535", "65.535"]), source="a.csv")


def _error(content: str) -> RecordingFormatError:
    with pytest.raises(RecordingFormatError) as err:
        parse_recordings(content, source="a.csv")
    return err.value


def test_fitcsv_errors_name_the_line_and_the_value():
    err = _error(fitcsv(["0.812|abc"]))
    # Line 1 the header, 7 lines of definitions and messages, a record row: the hrv row is line 9.
    assert (err.row, err.field, err.value) == (9, "Value 1[1]", "'abc'")
    err = _error(fitcsv(["0.812", "120.0"]))
    assert "RR above" in err.problem
    assert (err.row, err.field) == (11, "Value 1[0]")
    assert err.hint is not None
    assert "{unit=ms}" in err.hint  # a template, rendered per surface
    err = _error(fitcsv(units="min"))
    assert "unknown unit" in err.problem
    assert (err.row, err.field) == (9, "Units 1")


def test_fitcsv_respects_the_recording_limit():
    with pytest.raises(RecordingFormatError, match="more than the limit of 0"):
        parse_recordings(fitcsv(), source="a.csv", max_recordings=0)
    assert len(parse_recordings(fitcsv(), source="a.csv", max_recordings=1)) == 1


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (HEADER + "\n", True),
        ("\n  Type,Local Number,Message\n", True),
        ('"Type","Local Number","Message","Field 1"\n', True),
        ("Type,rr\nA,800\n", False),
        ("id,time,x\n", False),
        ("Type,Local Number,Messages\n", False),
    ],
)
def test_is_fitcsv_by_the_header(head: str, expected: bool):
    assert is_fitcsv(head) is expected


def test_a_csv_with_a_type_column_is_still_a_csv():
    recs = parse_recordings("Type,rr\nA,800\nA,810\n", source="a.csv")
    np.testing.assert_array_equal(recs[0].rr, [800, 810])
