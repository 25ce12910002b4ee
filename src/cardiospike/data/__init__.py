"""Reading, splitting and simulating RR recordings."""

from cardiospike.data.io import (
    MAX_INPUT_BYTES,
    RecordingFormatError,
    parse_recordings,
    read_recordings,
    recordings_to_frame,
    write_csv_atomic,
)
from cardiospike.data.splits import Fold, OuterFold, group_folds, nested_group_folds
from cardiospike.data.synthetic import simulate_recording, simulate_recordings

__all__ = [
    "MAX_INPUT_BYTES",
    "Fold",
    "OuterFold",
    "RecordingFormatError",
    "group_folds",
    "nested_group_folds",
    "parse_recordings",
    "read_recordings",
    "recordings_to_frame",
    "simulate_recording",
    "simulate_recordings",
    "write_csv_atomic",
]
