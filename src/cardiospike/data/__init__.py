"""Reading, coercing, splitting and simulating RR recordings."""

from cardiospike.data.coerce import as_recording
from cardiospike.data.errors import RecordingFormatError
from cardiospike.data.formats import READERS, Recordings
from cardiospike.data.io import MAX_INPUT_BYTES, detect_format, parse_recordings, read_recordings, recordings_to_frame
from cardiospike.data.output import OutputError, csv_text, output_target, write_csv, write_csv_atomic
from cardiospike.data.splits import Fold, OuterFold, group_folds, nested_group_folds
from cardiospike.data.synthetic import simulate_recording, simulate_recordings

__all__ = [
    "MAX_INPUT_BYTES",
    "READERS",
    "Fold",
    "OuterFold",
    "OutputError",
    "RecordingFormatError",
    "Recordings",
    "as_recording",
    "csv_text",
    "detect_format",
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
