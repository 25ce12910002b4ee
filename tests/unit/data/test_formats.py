"""Every input format, written by the tests as the exporting tools write it: read in order, beat for beat, in ms."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cardiospike.data import READERS, parse_recordings, read_recordings
from cardiospike.data.formats import sniff
from cardiospike.data.formats.base import Content
from cardiospike.recording import FORMATS
from tests.unit.data.fit_files import fit_file

RR = [812.0, 790.0, 805.0, 1210.0, 640.0]
RR_S = ", ".join(f"{v / 1000:.3f}" for v in RR)

#: wfdb's own writer still uses a pandas argument that pandas deprecates.
quiet_wfdb = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.set_index")


def _rr(content: str | bytes, **kwargs) -> np.ndarray:
    (rec,) = parse_recordings(content, **kwargs)
    return rec.rr


def test_every_format_name_has_a_reader():
    assert set(READERS) == set(FORMATS) - {"auto"}


# --- CSV: RR column names, units, separators ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["x", "rr", "RR", "rri", "nni", "RR_list", "rr_ms", "RR interval (ms)", "RR-interval [ms]", "IBI"]
)
def test_csv_rr_column_synonyms(name: str):
    content = f"{name}\n" + "\n".join(f"{v:g}" for v in RR) + "\n"
    np.testing.assert_array_equal(_rr(content, source="a.csv"), RR)


@pytest.mark.parametrize("name", ["RR (s)", "rr_s", "RR [s]", "rr"])
def test_csv_rr_in_seconds_from_the_header_or_the_median(name: str):
    content = f"{name}\n" + "\n".join(f"{v / 1000:.3f}" for v in RR) + "\n"
    recs = parse_recordings(content, source="a.csv")
    np.testing.assert_allclose(recs[0].rr, RR)
    assert recs.unit == "s"
    assert recs[0].unit == "s"
    assert recs.unit_note is not None
    assert ("says so" if "s" in name.lower().replace("rr", "") else "median") in recs.unit_note


def test_a_header_unit_decides_over_the_median():
    # 5 ms RR are measurement errors, but the header says ms: they stay ms.
    recs = parse_recordings("RR (ms)\n5\n6\n", source="a.csv")
    np.testing.assert_array_equal(recs[0].rr, [5, 6])
    assert recs.unit == "ms"


def test_unit_option_decides():
    np.testing.assert_array_equal(_rr("rr\n0.8\n0.9\n", unit="ms"), [0.8, 0.9])
    np.testing.assert_allclose(_rr("rr\n80\n90\n", unit="s"), [80_000, 90_000])
    recs = parse_recordings("rr\n0.8\n0.9\n", unit="ms")
    assert recs.unit_note is not None
    assert "as asked" in recs.unit_note


def test_garmin_timestamp_rr_csv_in_seconds():
    content = "timestamp,rr\n1000.0,0.812\n1000.8,0.790\n1001.6,0.805\n"
    (rec,) = parse_recordings(content, source="garmin.csv")
    np.testing.assert_allclose(rec.rr, [812, 790, 805])
    np.testing.assert_allclose(rec.time, [1_000_000, 1_000_800, 1_001_600])


def test_csv_rr_and_time_columns_chosen_by_option():
    content = "a,b,c\n0,812,1\n812,790,2\n"
    (rec,) = parse_recordings(content, rr_column="b", time_column="a")
    np.testing.assert_array_equal(rec.rr, [812, 790])
    np.testing.assert_array_equal(rec.time, [0, 812])
    (rec,) = parse_recordings(content, rr_column="2")  # by number, from 1
    np.testing.assert_array_equal(rec.rr, [812, 790])


def test_european_csv_with_decimal_commas():
    content = "Time;RR (s)\n0,000;0,812\n0,812;0,790\n1,602;0,805\n"
    (rec,) = parse_recordings(content, source="eu.csv")
    np.testing.assert_allclose(rec.rr, [812, 790, 805])
    np.testing.assert_allclose(rec.time, [0, 812, 1602])


def test_tab_separated_csv():
    np.testing.assert_array_equal(_rr("time\trr\n0\t812\n812\t790\n", source="a.tsv"), [812, 790])


def test_clock_time_column_and_midnight():
    content = "time,rr\n23:59:59.500,812\n23:59:59.900,400\n00:00:00.700,800\n"
    (rec,) = parse_recordings(content)
    start = (23 * 3600 + 59 * 60 + 59.5) * 1000
    np.testing.assert_allclose(rec.time, [start, start + 400, start + 1200])


def test_iso_date_time_column_polar_sensor_logger():
    content = "Phone timestamp;RR-interval [ms]\n2021-03-08T12:00:00.123;812\n2021-03-08T12:00:00.935;790\n"
    (rec,) = parse_recordings(content, source="polar.txt")
    np.testing.assert_array_equal(rec.rr, [812, 790])
    assert rec.time[1] - rec.time[0] == pytest.approx(812)


def test_zero_and_65535_are_kept():
    np.testing.assert_array_equal(_rr("rr\n812\n0\n65535\n790\n"), [812, 0, 65535, 790])


def test_csv_extra_columns_kept_in_order_when_asked():
    content = "id,time,x,note,y\n1,0,800,a,0\n1,800,810,b,1\n2,0,700,c,0\n"
    recs = parse_recordings(content, keep_columns=True)
    assert recs.extra is not None
    assert recs.extra.columns.tolist() == ["note"]
    assert recs.extra["note"].tolist() == ["a", "b", "c"]
    assert parse_recordings(content).extra is None


def test_converted_columns_go_with_the_extra_columns():
    recs = parse_recordings("time (s),rr (s),x\n0,0.8,1\n0.8,0.81,2\n", rr_column="rr (s)", keep_columns=True)
    assert recs.extra is not None
    assert recs.extra.columns.tolist() == ["time (s)", "rr (s)", "input_x"]


# --- encodings and line ends --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        b"rr\n812\n790\n",
        "\ufeffrr\n812\n790\n".encode(),
        b"rr\r\n812\r\n790\r\n",
        b"rr\r812\r790\r",
        "rr\r\n812\r\n790\r\n".encode("utf-16"),  # with its byte order mark, as Excel's "Unicode text"
        "rr\n812\n790\n".encode("utf-16-be").join([b"\xfe\xff", b""]),
    ],
    ids=["utf-8", "utf-8-bom", "crlf", "cr", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_encodings_and_line_ends(encoded: bytes):
    np.testing.assert_array_equal(_rr(encoded, source="a.csv"), [812, 790])
    np.testing.assert_array_equal(_rr(encoded, source="a.txt", fmt="text"), [812, 790])


# --- text ---------------------------------------------------------------------------------------------------------


def test_kubios_text_with_header_lines_in_seconds():
    content = "Kubios HRV Standard 3.5\nRR interval data\n\n  Time (s)    RR interval (s)\n" + "".join(
        f"  {t / 1000:.3f}    {v / 1000:.3f}\n" for t, v in zip(np.cumsum(RR) - RR[0], RR, strict=True)
    )
    recs = parse_recordings(content, source="kubios.txt")
    assert recs.format == "text"
    np.testing.assert_allclose(recs[0].rr, RR)
    np.testing.assert_allclose(recs[0].time, np.cumsum(RR) - RR[0])


def test_ann2rr_two_columns_time_then_rr_in_seconds():
    # ann2rr -r 100 -a atr -i s -V s: the time of each interval's end, then the interval.
    content = "".join(f"{t / 1000:.3f}\t{v / 1000:.3f}\n" for t, v in zip(np.cumsum(RR), RR, strict=True))
    (rec,) = parse_recordings(content, source="100.rr")
    np.testing.assert_allclose(rec.rr, RR)
    np.testing.assert_allclose(rec.time, np.cumsum(RR))


def test_savetxt_scientific_notation_without_header():
    buf = io.StringIO()
    np.savetxt(buf, np.array(RR))
    assert buf.getvalue().startswith("8.120000000000000000e+02")
    recs = parse_recordings(buf.getvalue(), source="rr.txt")
    assert recs.format == "text"
    np.testing.assert_array_equal(recs[0].rr, RR)


def test_savetxt_two_columns_rr_then_increasing_time():
    buf = io.StringIO()
    np.savetxt(buf, np.column_stack([RR, np.cumsum(RR)]))
    (rec,) = parse_recordings(buf.getvalue(), source="rr.txt")
    np.testing.assert_array_equal(rec.rr, RR)


def test_text_decimal_comma_one_column():
    np.testing.assert_allclose(_rr("0,812\n0,790\n0,805\n", source="e.txt"), [812, 790, 805])


def test_text_comma_separated_time_and_rr():
    (rec,) = parse_recordings("0,812\n812,790\n1602,805\n", source="e.txt")
    np.testing.assert_array_equal(rec.rr, [812, 790, 805])
    np.testing.assert_array_equal(rec.time, [0, 812, 1602])


def test_text_columns_chosen_by_number():
    np.testing.assert_array_equal(_rr("1 812 5\n2 790 6\n", source="a.txt", rr_column="2"), [812, 790])


# --- HRM, JSON, NDJSON ---------------------------------------------------------------------------------------------


def test_polar_hrm():
    content = (
        "[Params]\r\nVersion=106\r\nInterval=238\r\nStartTime=08:00:00.0\r\n\r\n[Note]\r\nrest\r\n\r\n[HRData]\r\n"
    )
    content += "".join(f"{v:g}\r\n" for v in RR)
    recs = parse_recordings(content, source="s.hrm")
    assert recs.format == "hrm"
    np.testing.assert_array_equal(recs[0].rr, RR)
    assert parse_recordings(content, source="s.txt").format == "hrm"  # by its sections


@pytest.mark.parametrize(
    "doc",
    [
        {"rr_intervals": RR},
        {"nni": [str(v) for v in RR]},
        {"RR (s)": [v / 1000 for v in RR]},
        {"data": {"samples": [{"rr": v, "time": t} for v, t in zip(RR, np.cumsum(RR).tolist(), strict=True)]}},
        [{"rr": v} for v in RR],
        {"study": "p1", "sequence": RR},
        {"recording": {"id": "p1", "beats": [{"RR interval (ms)": v} for v in RR]}},
    ],
    ids=["rr_intervals", "strings", "seconds", "nested-samples", "beat-objects", "legacy", "nested-deeper"],
)
def test_json_with_common_keys_nested_samples_and_strings(doc):
    (rec,) = parse_recordings(json.dumps(doc), source="x.json")
    np.testing.assert_allclose(rec.rr, RR)


def test_json_recordings_under_a_key_keep_their_ids():
    doc = {"recordings": [{"id": "a", "rr": RR[:2]}, {"id": "b", "rr": RR[2:]}]}
    recs = parse_recordings(json.dumps(doc))
    assert [r.id for r in recs] == ["a", "b"]
    assert sum(len(r) for r in recs) == len(RR)


@pytest.mark.parametrize(
    "lines",
    [
        [json.dumps({"id": "a" if i < 3 else "b", "rr": v}) for i, v in enumerate(RR)],
        [json.dumps({"id": "a", "rr": RR[:3]}), json.dumps({"id": "b", "rr": RR[3:]})],
        [f"{v:g}" for v in RR],
    ],
    ids=["beats", "recordings", "numbers"],
)
def test_ndjson(lines):
    recs = parse_recordings("\n".join(lines) + "\n", source="x.ndjson")
    assert recs.format == "ndjson"
    np.testing.assert_array_equal(np.concatenate([r.rr for r in recs]), RR)


def test_ndjson_sniffed_from_the_content():
    content = "\n".join(json.dumps({"rr": v}) for v in RR)
    assert parse_recordings(content, source="upload").format == "ndjson"


# --- binary: npy, FIT, WFDB ---------------------------------------------------------------------------------------


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def test_npy_one_and_two_columns_and_fields():
    np.testing.assert_array_equal(_rr(_npy(np.array(RR)), source="rr.npy"), RR)
    (rec,) = parse_recordings(_npy(np.column_stack([np.cumsum(RR), RR])), source="upload")
    np.testing.assert_array_equal(rec.rr, RR)
    np.testing.assert_array_equal(rec.time, np.cumsum(RR))
    fields = np.zeros(len(RR), dtype=[("t", "f8"), ("rri", "f8")])
    fields["t"], fields["rri"] = np.cumsum(RR), np.array(RR) / 1000
    np.testing.assert_allclose(_rr(_npy(fields)), RR)


def test_fit_hrv_messages():
    pytest.importorskip("fitdecode", reason="the 'fit' extra (fitdecode) is not installed")
    data = fit_file([[812, 790, 805], [1210, 640]])
    recs = parse_recordings(data, source="activity.fit")
    assert recs.format == "fit"
    np.testing.assert_array_equal(recs[0].rr, RR)
    assert parse_recordings(data, source="upload").format == "fit"  # by its signature


def _write_wfdb(folder: Path, samples: list[int], symbols: str, fs: float = 250.0, with_fs: bool = True) -> Path:
    wfdb = pytest.importorskip("wfdb", reason="the 'wfdb' extra is not installed")
    wfdb.wrann(
        "100", "atr", np.array(samples), np.array(list(symbols)), fs=fs if with_fs else None, write_dir=str(folder)
    )
    if not with_fs:
        (folder / "100.hea").write_text(f"100 1 {fs:g} 100000\n100.dat 212 200 11 1024 0 0 0 MLII\n")
    return folder / "100.atr"


@quiet_wfdb
def test_wfdb_nn_intervals_from_normal_beats(tmp_path: Path):
    # At 250 Hz a sample is 4 ms. The "+" (a rhythm note) is no beat; the interval into the V beat is left out.
    path = _write_wfdb(tmp_path, [100, 303, 500, 500, 701, 1003, 1163], "NNN+NNV")
    recs = read_recordings(path)
    assert recs.format == "wfdb"
    np.testing.assert_allclose(recs[0].rr, [812, 788, 804, 1208])
    np.testing.assert_allclose(recs[0].time, [1212, 2000, 2804, 4012])
    assert recs[0].id == "100"


@quiet_wfdb
def test_wfdb_header_names_the_record_and_gives_the_sampling_frequency(tmp_path: Path):
    _write_wfdb(tmp_path, [100, 303, 500, 701], "NNNN", fs=250.0, with_fs=False)
    recs = read_recordings(tmp_path / "100.hea")
    np.testing.assert_allclose(recs[0].rr, [812, 788, 804])


@quiet_wfdb
def test_wfdb_annotation_uploaded_alone(tmp_path: Path):
    path = _write_wfdb(tmp_path, [100, 303, 500, 701], "NNNN")
    recs = parse_recordings(path.read_bytes(), source="100.atr")
    np.testing.assert_allclose(recs[0].rr, [812, 788, 804])


# --- sniffing -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "source", "expected"),
    [
        ("id,time,x\n1,0,800\n", "upload", "csv"),
        ("RR\n800\n810\n", "upload", "csv"),
        ("800\n810\n", "upload", "text"),
        ("Header one\nHeader two\n800\n", "upload.txt", "text"),
        ("time rr\n0 800\n", "upload", "text"),
        ('{"rr": [800]}', "upload", "json"),
        ('{\n  "rr": [800]\n}', "upload", "json"),
        ('{"rr": 800}\n{"rr": 810}\n', "upload", "ndjson"),
        ("[Params]\nInterval=238\n[HRData]\n800\n", "upload", "hrm"),
        ("800\n810\n", "a.csv", "csv"),
    ],
)
def test_sniffing(content: str, source: str, expected: str):
    assert sniff(Content(content, source), source)[0] == expected


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("auto", "npy", "fit", "wfdb", "edf", "ecg")])
def test_taken_as_says_the_format_and_why(fmt: str):
    samples = {
        "csv": "rr\n800\n",
        "text": "800\n",
        "hrm": "[Params]\nInterval=238\n[HRData]\n800\n",
        "json": "[800]",
        "ndjson": '{"rr": 800}\n',
    }
    recs = parse_recordings(samples[fmt], fmt=fmt)  # type: ignore[arg-type]
    assert recs.taken_as == f"read as {fmt}, as asked"


def test_a_large_competition_csv_reads_fast_and_in_order():
    n, per = 200_000, 1000
    ids = np.repeat(np.arange(n // per), per)
    rr = 600 + (np.arange(n) % 400)
    lines = "\n".join(f"{i},{v}" for i, v in zip(ids, rr, strict=True))
    recs = parse_recordings("id,x\n" + lines + "\n", source="big.csv")
    assert len(recs) == n // per
    np.testing.assert_array_equal(np.concatenate([r.rr for r in recs]), rr)


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("text", "Kubios\n\n  Time (s)    RR (s)\n 0.0  0.812\n#c\n 0.812 0.790\n\n"),
        ("text", "0,812\n0,790\n"),
        ("text", "1.02e+03\r\n9.8e+02\r\n"),
        ("text", "a;b\n0;812\n812;790\n"),
        (
            "ndjson",
            '{"id": "a", "rr": 800, "t": 0}\n{"id": "a", "rr": 810, "t": 810}\n{"id": "b", "rr": 700, "t": 0}\n',
        ),
    ],
)
def test_the_fast_and_careful_paths_read_alike(fmt: str, content: str, monkeypatch: pytest.MonkeyPatch):
    from cardiospike.data.formats import jsondoc, text

    fast = parse_recordings(content, fmt=fmt, keep_columns=True)  # type: ignore[arg-type]
    monkeypatch.setattr(text, "_fast_table", lambda *args: None)
    monkeypatch.setattr(jsondoc, "_fast_beats", lambda *args: None)
    careful = parse_recordings(content, fmt=fmt, keep_columns=True)  # type: ignore[arg-type]
    assert [r.id for r in fast] == [r.id for r in careful]
    for a, b in zip(fast, careful, strict=True):
        np.testing.assert_array_equal(a.rr, b.rr)
        np.testing.assert_array_equal(a.time, b.time)


def test_the_fast_readers_load_no_pandas():
    inputs = [
        ("id,time,x\na,0,800\na,800,810\nb,0,700\n", "a.csv"),
        ("800\n810\n", "a.txt"),
        ("# time rr\n0 800\n800 810\n", "a.txt"),
        ("0,800\n800,810\n", "a.txt"),
        ("0,812\n0,790\n", "a.txt"),  # decimal commas
        ('{"id": "a", "time": 0, "rr": 800}\n{"id": "a", "time": 800, "rr": 810}\n', "a.ndjson"),
    ]
    code = (
        "import sys\n"
        "from cardiospike.data import parse_recordings\n"
        f"for content, source in {inputs!r}:\n"
        "    assert parse_recordings(content, source=source)\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_two_columns_of_numbers_with_decimal_commas():
    (rec,) = parse_recordings("0;0,812\n0,812;0,790\n1,602;0,805\n", source="a.txt")
    np.testing.assert_allclose(rec.rr, [812.0, 790.0, 805.0])
    np.testing.assert_allclose(rec.time, [0.0, 812.0, 1602.0])


@pytest.mark.parametrize("raw", [b"800\r\n810\r\n820\r\n", "800\n810\n820\n"])
def test_content_head_is_whole_lines_of_the_start(raw: bytes | str):
    assert Content(raw, "a.txt").head() == "800\n810\n820\n"
    assert Content(raw, "a.txt").head(9) == "800\n810\n"  # the line cut short is left out
    assert Content(raw * 1000, "a.txt").head(10).endswith("810\n")


@pytest.mark.parametrize("name", ["patient", "patient_id", "Subject ID", "file", "filename", "recording"])
def test_a_column_naming_patients_or_files_keeps_them_apart(name: str):
    text = f"{name},RR\n" + "".join(f"{p},{800 + i}\n" for p in ("p1", "p2", "p3") for i in range(4))
    recordings = parse_recordings(text, source="patients.csv")
    assert [r.id for r in recordings] == ["p1", "p2", "p3"]
    assert [len(r) for r in recordings] == [4, 4, 4]


@pytest.mark.parametrize(
    ("typed", "rr"),
    [
        ("812, 790, 805, 800", [812, 790, 805, 800]),
        ("0.812, 0.790, 0.805", [812, 790, 805]),  # seconds, as everywhere
        ("812 790 805\n800 810\n", [812, 790, 805, 800, 810]),
        ("812,790,\n805", [812, 790, 805]),
        ("812;790;805", [812, 790, 805]),
    ],
)
def test_rr_typed_or_pasted_as_a_row_are_one_value_per_beat(typed, rr):
    (rec,) = parse_recordings(typed, source="pasted.txt")
    np.testing.assert_allclose(rec.rr, rr)
    assert rec.time[0] == 0
    two_columns = parse_recordings("0 800\n800 810\n", source="a.txt")[0]  # still time and RR
    np.testing.assert_allclose(two_columns.rr, [800, 810])
