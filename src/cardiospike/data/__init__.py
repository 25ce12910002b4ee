"""Reading, splitting and simulating RR recordings."""

from cardiospike.data.io import (
    MAX_INPUT_BYTES,
    RecordingFormatError,
    parse_recordings,
    read_recordings,
    recordings_to_frame,
)
from cardiospike.data.output import OutputError, csv_text, output_target, write_csv, write_csv_atomic
from cardiospike.data.splits import Fold, OuterFold, group_folds, nested_group_folds
from cardiospike.data.synthetic import simulate_recording, simulate_recordings

__all__ = [
    "MAX_INPUT_BYTES",
    "Fold",
    "OuterFold",
    "OutputError",
    "RecordingFormatError",
    "csv_text",
    "group_folds",
    "nested_group_folds",
    "output_target",
    "parse_recordings",
    "read_recordings",
    "recordings_to_frame",
    "simulate_recording",
    "simulate_recordings",
    "write_csv",
    "write_csv_atomic",
]
