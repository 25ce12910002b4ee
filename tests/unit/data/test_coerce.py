"""as_recording: a Recording from what a Python caller has (arrays, lists, Series, DataFrames), in ms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cardiospike
from cardiospike.data import as_recording
from cardiospike.recording import Recording, measurement_errors

RR = [812.0, 790.0, 805.0]


@pytest.mark.parametrize("obj", [RR, tuple(RR), np.array(RR), np.array(RR, dtype=np.int32), pd.Series(RR)], ids=type)
def test_rr_values_in_ms(obj):
    rec = as_recording(obj)
    np.testing.assert_array_equal(rec.rr, RR)
    np.testing.assert_array_equal(rec.time, [0, 790, 1595])
    assert (rec.id, rec.unit) == ("recording", "ms")


def test_seconds_by_the_median_or_by_the_unit():
    rec = as_recording([0.812, 0.79])
    np.testing.assert_allclose(rec.rr, [812, 790])
    assert rec.unit == "s"
    with pytest.warns(UserWarning, match='unit="s" reads them as seconds'):  # the unit asked for, all the same
        np.testing.assert_array_equal(as_recording([0.812, 0.79], unit="ms").rr, [0.812, 0.79])
    with pytest.warns(UserWarning, match="measurement errors"):
        np.testing.assert_allclose(as_recording([50, 60], unit="s").rr, [50_000, 60_000])


def test_a_series_name_gives_the_unit_and_the_id():
    with pytest.warns(UserWarning, match="measurement errors"):  # 5 ms as the name says, not RR
        rec = as_recording(pd.Series([5.0, 6.0], name="rr_ms"))
    assert (rec.unit, rec.id) == ("ms", "rr_ms")
    assert as_recording(pd.Series([812.0]), id="p1").id == "p1"


def test_a_recording_is_returned_as_it_is():
    rec = Recording.from_rr(RR)
    assert as_recording(rec) is rec


def test_a_dataframe_with_rr_time_labels_and_one_id():
    frame = pd.DataFrame({"id": ["p1"] * 3, "Time (s)": [0.0, 0.79, 1.595], "RR (s)": [0.812, 0.79, 0.805],
                          "y": [0, 1, 0]})  # fmt: skip
    rec = as_recording(frame)
    assert (rec.id, rec.unit) == ("p1", "s")
    np.testing.assert_allclose(rec.rr, RR)
    np.testing.assert_allclose(rec.time, [0, 790, 1595])
    assert rec.labels is not None
    assert rec.labels.tolist() == [0, 1, 0]


def test_a_dataframe_with_datetimes_and_a_named_rr_column():
    frame = pd.DataFrame({"when": pd.to_datetime(["2021-01-01 08:00:00.0", "2021-01-01 08:00:00.79"]),
                          "beat": [812.0, 790.0]})  # fmt: skip
    rec = as_recording(frame, rr_column="beat", time_column="when")
    assert rec.time[1] - rec.time[0] == pytest.approx(790)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        (np.ones((3, 2)), "one-dimensional"),
        ([], "not empty"),
        (["a", "b"], "must be numbers"),
        ("812", "must be numbers"),
        (pd.DataFrame({"a": [1.0]}), r'missing RR column.*\(name it with rr_column="NAME"\)'),
        (pd.DataFrame({"x": [1.0], "rr": [2.0]}), r'\(choose one with rr_column="NAME"\)'),
        (pd.DataFrame({"id": ["a", "b"], "rr": [800.0, 810.0]}), "holds 2 recordings"),
    ],
)
def test_what_cannot_be_a_recording(obj, message: str):
    with pytest.raises(ValueError, match=message):
        as_recording(obj)


def test_invalid_values_are_kept_and_flagged_and_times_stay_finite():
    with pytest.warns(UserWarning, match="measurement errors"):
        rec = as_recording([800.0, np.nan, -5.0, 0.0, np.inf, 810.0])
    assert len(rec) == 6
    assert np.isfinite(rec.time).all()
    np.testing.assert_array_equal(measurement_errors(rec.rr), [False, True, True, True, True, False])


def test_public_names():
    assert cardiospike.as_recording is as_recording
    assert cardiospike.hrv_summary.__doc__
