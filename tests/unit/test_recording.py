import numpy as np
import pytest

from cardiospike.recording import Recording, in_model_range, measurement_errors, time_from_rr


def test_time_from_rr_matches_competition_convention():
    # In train.csv the first beat is at 0 and each next beat adds its own RR.
    np.testing.assert_array_equal(time_from_rr(np.array([800.0, 780.0, 792.0])), [0.0, 780.0, 1572.0])


def test_time_from_rr_of_empty_array():
    assert time_from_rr(np.array([])).size == 0


def test_measurement_errors_flags_out_of_range_only():
    rr = np.array([299.0, 300.0, 800.0, 2000.0, 2001.0])
    np.testing.assert_array_equal(measurement_errors(rr), [True, False, False, False, True])
    np.testing.assert_array_equal(measurement_errors(rr, 250, 2500), [False] * 5)


def test_model_range_is_open_and_excludes_nan():
    rr = np.array([300.0, 301.0, 1399.0, 1400.0, np.nan])
    np.testing.assert_array_equal(in_model_range(rr), [False, True, True, False, False])


def test_from_rr_builds_times_and_labels():
    rec = Recording.from_rr([800, 810], id=3, labels=[0, 1])
    assert rec.id == "3"
    assert len(rec) == 2
    np.testing.assert_array_equal(rec.time, [0, 810])
    assert rec.labels is not None
    assert rec.labels.dtype == np.int8


def test_recording_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="one length"):
        Recording(id="a", rr=np.ones(3), time=np.ones(2))
    with pytest.raises(ValueError, match="one value per beat"):
        Recording(id="a", rr=np.ones(3), time=np.arange(3.0), labels=np.zeros(2, dtype=np.int8))


def test_from_rr_keeps_invalid_values_and_times_never_nan():
    rec = Recording.from_rr([800.0, float("nan"), 0.0, -3.0, float("inf"), 810.0])
    assert len(rec) == 6
    np.testing.assert_array_equal(rec.time, [0, 0, 0, 0, 0, 810])
    np.testing.assert_array_equal(measurement_errors(rec.rr), [False, True, True, True, True, False])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rr": [[800.0, 810.0]]}, "one-dimensional"),
        ({"rr": ["a"]}, "numbers"),
        ({"rr": [800.0, 810.0], "time": [0.0]}, "1 times for 2 RR values"),
        ({"rr": [800.0, 810.0], "time": [0.0, float("nan")]}, r"time\[1\] is not a finite number"),
        ({"rr": [800.0, 810.0], "time": [5.0, 1.0]}, "must not decrease"),
        ({"rr": [800.0, 810.0], "labels": [0, 2]}, "labels must be 0 or 1"),
    ],
)
def test_from_rr_refuses_what_is_no_recording(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Recording.from_rr(**kwargs)
