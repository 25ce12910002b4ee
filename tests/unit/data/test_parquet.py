"""Parquet files: read as every other format is (same columns, units, checks and errors), from files only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cardiospike.data import RecordingFormatError, parse_recordings, read_recordings
from cardiospike.data.formats.base import Options
from cardiospike.data.formats.parquet import recordings_of_arrow

COMPETITION = pd.DataFrame(
    {
        "id": ["a", "a", "a", "b", "b"],
        "time": [0, 800, 1610, 0, 700],
        "x": [800, 800, 810, 700, 720.0],
        "y": [0, 1, 0, 0, 0],
    }
)


def _written(tmp_path: Path, frame: pd.DataFrame | pa.Table, name: str = "rr.parquet") -> Path:
    path = tmp_path / name
    if isinstance(frame, pa.Table):
        pq.write_table(frame, path)
    else:
        frame.to_parquet(path, index=False)
    return path


def test_competition_columns_read_in_order(tmp_path: Path):
    recs = read_recordings(_written(tmp_path, COMPETITION))
    assert [r.id for r in recs] == ["a", "b"]
    np.testing.assert_array_equal(recs[0].rr, [800, 800, 810])
    np.testing.assert_array_equal(recs[0].time, [0, 800, 1610])
    assert recs[0].labels is not None
    np.testing.assert_array_equal(recs[0].labels, [0, 1, 0])
    assert recs.format == "parquet"
    assert recs.taken_as == "read as parquet, from the extension .parquet"


def test_sniffed_from_the_content_or_asked(tmp_path: Path):
    path = _written(tmp_path, COMPETITION, "export.dat")
    assert read_recordings(path).taken_as == "read as parquet, from the content"
    assert read_recordings(path, fmt="parquet").taken_as == "read as parquet, as asked"


def test_other_columns_are_kept_with_their_types(tmp_path: Path):
    frame = COMPETITION.assign(note=list("pqrst"), count=[1, 2, 3, 4, 5])
    recs = read_recordings(_written(tmp_path, frame), keep_columns=True)
    assert recs.extra is not None
    assert list(recs.extra.columns) == ["note", "count"]
    assert recs.extra["note"].tolist() == list("pqrst")
    assert recs.extra["count"].dtype.kind == "i"


def test_integer_and_categorical_ids_are_text(tmp_path: Path):
    recs = read_recordings(_written(tmp_path, COMPETITION.assign(id=[7, 7, 7, 8, 8])))
    assert [r.id for r in recs] == ["7", "8"]
    recs = read_recordings(_written(tmp_path, COMPETITION.assign(id=COMPETITION["id"].astype("category"))))
    assert [r.id for r in recs] == ["a", "b"]


def test_timestamps_are_ms_since_1970_and_the_column_is_kept(tmp_path: Path):
    start = pd.Timestamp("2021-03-08T12:00:00", tz="UTC")
    frame = COMPETITION.assign(time=start + pd.to_timedelta(COMPETITION["time"], unit="ms"))
    recs = read_recordings(_written(tmp_path, frame), keep_columns=True)
    np.testing.assert_array_equal(recs[0].time - recs[0].time[0], [0, 800, 1610])
    assert recs[0].time[0] == start.value / 1e6
    assert recs.extra is not None
    assert "input_time" in recs.extra.columns


def test_rr_in_seconds_and_named_columns(tmp_path: Path):
    frame = pd.DataFrame({"RR (s)": [0.8, 0.81, 0.79]})
    recs = read_recordings(_written(tmp_path, frame))
    np.testing.assert_allclose(recs[0].rr, [800, 810, 790])
    assert recs.unit == "s"
    recs = read_recordings(_written(tmp_path, pd.DataFrame({"beat": [800.0, 810.0]})), rr_column="beat")
    np.testing.assert_array_equal(recs[0].rr, [800, 810])


def test_text_numbers_are_parsed_as_in_csv(tmp_path: Path):
    recs = read_recordings(_written(tmp_path, COMPETITION.assign(x=["800", "800", "810", "700", "720"])))
    np.testing.assert_array_equal(recs[1].rr, [700, 720])


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (COMPETITION.assign(x=pd.array([800, None, 810, 700, 720], dtype="Float64")), "field 'x[1]': empty value"),
        (COMPETITION.assign(x=["800", "abc", "810", "700", "720"]), "field 'x[1]': not a number: 'abc'"),
        (COMPETITION.assign(x=[800, -5, 810, 700, 720]), "field 'x[1]': RR must not be negative"),
        (COMPETITION.assign(id=["a", "b", "a", "b", "b"]), "the rows of a recording are not together"),
        (COMPETITION.assign(time=[0, 800, 800, 0, 700]), "duplicated (id, time)"),
        (COMPETITION.rename(columns={"x": "value"}), "missing RR column"),
        (COMPETITION.iloc[:0], "no rows"),
    ],
)
def test_bad_values_are_named_by_column_and_row(tmp_path: Path, frame: pd.DataFrame, message: str):
    with pytest.raises(RecordingFormatError, match="read as parquet") as caught:
        read_recordings(_written(tmp_path, frame))
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "rr.parquet"))


def test_an_unknown_unit_is_refused_as_for_other_formats(tmp_path: Path):
    with pytest.raises(RecordingFormatError, match="unknown unit 'us'"):
        read_recordings(_written(tmp_path, COMPETITION), unit="us")  # type: ignore[arg-type]


def test_not_a_parquet_file(tmp_path: Path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 and nothing else")
    with pytest.raises(RecordingFormatError, match="not a Parquet file"):
        read_recordings(path)


def test_parquet_content_is_refused_outside_files(tmp_path: Path):
    data = _written(tmp_path, COMPETITION).read_bytes()
    with pytest.raises(RecordingFormatError, match="read from files only"):
        parse_recordings(data, source="upload")
    with pytest.raises(RecordingFormatError, match="read from files only"):
        parse_recordings("id,x\n1,800\n", fmt="parquet")


def test_an_arrow_table_reads_as_its_file_does(tmp_path: Path):
    table = pa.Table.from_pandas(COMPETITION, preserve_index=False)
    recs = recordings_of_arrow(table, Options(source="table"))
    assert [len(r) for r in recs] == [3, 2]
    for got, want in zip(recs, read_recordings(_written(tmp_path, COMPETITION)), strict=True):
        assert got.id == want.id
        np.testing.assert_array_equal(got.rr, want.rr)
        np.testing.assert_array_equal(got.time, want.time)
        np.testing.assert_array_equal(got.labels, want.labels)
