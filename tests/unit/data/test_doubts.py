"""What may be read wrongly although it can be read: recording ids not read as ids, recordings that are mostly
measurement errors. Each is said, with what to try chosen from what the data show, in the words of each surface."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cardiospike.data import RecordingFormatError, as_recording, parse_recordings
from cardiospike.data.errors import render_hint

THREE_PATIENTS = "patient_code,rr\n" + "".join(f"{p},{800 + i}\n" for p in "ABC" for i in range(5))


def test_recording_ids_are_read_from_the_column_named_or_chosen():
    text = "patient_id,rr\n" + "".join(f"{p},{800 + i}\n" for p in "AB" for i in range(3))
    assert [r.id for r in parse_recordings(text, source="a.csv")] == ["A", "B"]
    chosen = parse_recordings(THREE_PATIENTS, source="a.csv", id_column="patient_code")
    assert [r.id for r in chosen] == ["A", "B", "C"]
    assert chosen.warnings == ()
    assert [r.id for r in parse_recordings(THREE_PATIENTS, source="a.csv", id_column="1")] == ["A", "B", "C"]
    with pytest.raises(RecordingFormatError, match="no column 'who'") as info:
        parse_recordings(THREE_PATIENTS, source="a.csv", id_column="who")
    assert "--id-column who" in str(info.value.shown_on("cli"))


def test_a_column_that_looks_like_ids_but_is_not_read_as_them_is_warned_about():
    merged = parse_recordings(THREE_PATIENTS, source="a.csv")
    assert len(merged) == 1
    (warning,) = merged.warnings
    assert "'patient_code' looks like recording ids" in warning
    assert "--id-column patient_code" in render_hint(warning, "cli")
    assert 'id_column="patient_code"' in render_hint(warning, "python")
    assert "Recording column: patient_code" in render_hint(warning, "web")
    assert parse_recordings("valid,rr\n1,800\n1,810\n", source="a.csv").warnings == ()  # not a name of ids


def test_times_going_back_propose_ids_not_ignoring_the_times():
    """Ignoring the times of recordings laid one after another would merge them: it is proposed only where nothing
    says the file holds several."""
    with pytest.raises(RecordingFormatError) as info:
        parse_recordings("pid,time,rr\nA,0,800\nA,800,810\nB,0,790\n", source="a.csv")
    assert "--id-column pid" in str(info.value.shown_on("cli"))
    assert "--ignore-time" not in str(info.value)
    with pytest.raises(RecordingFormatError) as info:
        parse_recordings("time,rr\n0,800\n800,810\n0,790\n790,800\n", source="a.csv")
    message = str(info.value.shown_on("cli"))
    assert "the times start again" in message
    assert "--id-column" in message
    with pytest.raises(RecordingFormatError) as info:
        parse_recordings("time,rr\n0,800\n800,810\n700,790\n", source="a.csv")
    assert "--ignore-time times beats by RR" in str(info.value.shown_on("cli"))


@pytest.mark.parametrize(
    ("values", "kwargs", "proposed"),
    [
        ([72, 75, 80], {}, ["looks like a heart rate", "--rr-column"]),
        ([0.8, 0.75, 0.7], {"unit": "ms"}, ["seconds as milliseconds", "--unit s"]),
        ([5, 6, 4], {"unit": "s"}, ["median is 5000 ms", "--rr-column"]),
        ([256, 250, 260], {}, ["median is 256 ms", "--rr-column"]),
    ],
)
def test_mostly_measurement_errors_proposes_what_the_values_suggest(values, kwargs, proposed):
    text = "\n".join(str(v) for v in values * 20)
    (warning,) = parse_recordings(text, source="a.txt", **kwargs).warnings
    shown = render_hint(warning, "cli")
    assert "more than half the beats of recording 'recording' are measurement errors" in shown
    for piece in proposed:
        assert piece in shown
    if kwargs.get("unit") != "ms":
        assert "--unit" not in shown  # no unit would read 256 ms, 5 s or 72 per minute as RR


def test_python_values_warn_and_a_frame_of_several_recordings_is_refused():
    with pytest.warns(UserWarning, match=r'looks like a heart rate.*rr_column="NAME"'):
        as_recording([70.0, 72.0, 75.0] * 10)
    frame = pd.DataFrame({"pid": ["a", "a", "b"], "rr": [800.0, 810.0, 790.0]})
    with pytest.raises(ValueError, match=r'\'pid\' looks like recording ids.*id_column="pid"'):
        as_recording(frame)
    assert as_recording(frame[frame.pid == "a"]).rr.tolist() == [800.0, 810.0]
    chosen = as_recording(frame[frame.pid == "a"], id_column="pid")
    assert chosen.id == "a"
    np.testing.assert_array_equal(chosen.rr, [800.0, 810.0])
