"""JSON whose RR list holds sample objects (``{"dateTime": ..., "value": 859}``), as Polar Flow-style exports write."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from cardiospike.data import RecordingFormatError, parse_recordings

RR = [859, 867, 871, 900]
STAMPS = ["2021-03-08T12:00:00.000", "2021-03-08T12:00:00.867", "2021-03-08T12:00:01.738", "2021-03-08T12:00:02.638"]


def _polar() -> dict[str, Any]:
    """A Polar Flow-style export: heart rate and RR samples, each with its date and time."""
    return {
        "exportVersion": "1.6",
        "startTime": STAMPS[0],
        "samples": {
            "heartRate": [{"dateTime": STAMPS[0], "value": 70}],
            "rr": [{"dateTime": t, "value": v} for t, v in zip(STAMPS, RR, strict=True)],
        },
    }


def _error(doc: Any, source: str = "a.json") -> RecordingFormatError:
    with pytest.raises(RecordingFormatError) as err:
        parse_recordings(json.dumps(doc), source=source)
    return err.value


def test_polar_flow_rr_samples_with_their_dates_and_times():
    recs = parse_recordings(json.dumps(_polar()), source="training-session.json")
    assert recs.format == "json"
    (rec,) = recs
    assert rec.id == "recording"
    np.testing.assert_array_equal(rec.rr, RR)
    # Dates and times are milliseconds since 1970-01-01 (UTC, where they carry no zone).
    np.testing.assert_allclose(rec.time - rec.time[0], [0, 867, 1738, 2638])
    assert rec.time[0] == pytest.approx(1_615_204_800_000.0)


@pytest.mark.parametrize(
    "doc",
    [
        {"rr": [{"value": v} for v in RR]},
        {"rr": [{"rr": v} for v in RR]},
        {"RR": [{"ms": v} for v in RR]},
        {"data": {"rr_intervals": [{"value": v, "quality": "good"} for v in RR]}},
        {"RR (s)": [{"value": v / 1000} for v in RR]},
        {"rr": [{"value_s": v / 1000} for v in RR]},
    ],
    ids=["value", "rr", "ms", "nested", "seconds-by-the-list", "seconds-by-the-sample"],
)
def test_rr_samples_without_times_are_timed_by_rr(doc: dict[str, Any]):
    (rec,) = parse_recordings(json.dumps(doc), source="x.json")
    np.testing.assert_allclose(rec.rr, RR)
    np.testing.assert_allclose(rec.time, np.cumsum(RR) - RR[0])


def test_rr_samples_with_numeric_times_and_times_only_where_all_have_one():
    timed = {"rr": [{"time": t / 1000, "value": v} for t, v in zip(np.cumsum(RR).tolist(), RR, strict=True)]}
    (rec,) = parse_recordings(json.dumps(timed))
    np.testing.assert_allclose(rec.time, np.cumsum(RR))  # seconds, from their steps
    partly = {"rr": [{"dateTime": STAMPS[0], "value": RR[0]}, *({"value": v} for v in RR[1:])]}
    (rec,) = parse_recordings(json.dumps(partly))
    np.testing.assert_allclose(rec.time, np.cumsum(RR) - RR[0])
    (rec,) = parse_recordings(json.dumps(_polar()), use_time=False)
    np.testing.assert_allclose(rec.time, np.cumsum(RR) - RR[0])


def test_rr_samples_of_recording_objects_keep_their_ids():
    doc = {"recordings": [{"id": "a", "rr": [{"value": v} for v in RR[:2]]}, {"id": "b", "rr": [{"value": RR[2]}]}]}
    recs = parse_recordings(json.dumps(doc))
    assert [r.id for r in recs] == ["a", "b"]
    np.testing.assert_array_equal(np.concatenate([r.rr for r in recs]), RR[:3])
    lines = [json.dumps({"id": i, "rr": [{"value": v}]}) for i, v in zip("pq", RR, strict=False)]
    recs = parse_recordings("\n".join(lines) + "\n", source="x.ndjson")
    assert [r.id for r in recs] == ["p", "q"]


def test_rr_sample_errors_name_the_json_path():
    doc = _polar()
    doc["samples"]["rr"][2]["value"] = "abc"
    err = _error(doc)
    assert (err.field, err.problem, err.value) == ("samples.rr[2].value", "not a number", "'abc'")
    err = _error({"rr": [{"value": 859}, {"value": True}]})
    assert (err.field, err.problem) == ("rr[1].value", "not a number")
    err = _error({"rr": [{"value": 859}, 867]})
    assert err.field == "rr[1]"
    assert "sample object" in err.problem
    err = _error({"rr": [{"heart": 70}]})
    assert err.field == "rr[0]"
    assert "no RR value" in err.problem
    err = _error({"rr": [{"value": 859}, {"quality": 1}]})
    assert (err.field, err.problem) == ("rr[1].value", "empty value")
    err = _error({"rr": [{"value": 859}, {"value": -1}]})
    assert err.field == "rr[1].value"
    assert "negative" in err.problem


def test_rr_sample_times_must_increase_and_be_dates_and_times():
    doc = _polar()
    doc["samples"]["rr"][3]["dateTime"] = STAMPS[1]
    err = _error(doc)
    assert (err.field, err.problem) == ("samples.rr[3].dateTime", "time is not increasing within the recording")
    doc["samples"]["rr"][3]["dateTime"] = "yesterday"
    err = _error(doc)
    assert (err.field, err.problem) == ("samples.rr[3].dateTime", "not a time of day")


def test_lists_of_numbers_and_beat_objects_read_as_before():
    np.testing.assert_array_equal(parse_recordings(json.dumps({"rr": RR}))[0].rr, RR)
    (rec,) = parse_recordings(json.dumps([{"time": t, "rr": v} for t, v in zip([0, 867, 1738, 2638], RR, strict=True)]))
    np.testing.assert_array_equal(rec.time, [0, 867, 1738, 2638])
