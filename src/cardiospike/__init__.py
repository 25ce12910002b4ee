"""CardioSpike: beat-by-beat detection of anomaly episodes in heart RR-interval recordings."""

from cardiospike.artifact import ArtifactError, load_artifact, package_version
from cardiospike.data import RecordingFormatError, parse_recordings, read_recordings, simulate_recording
from cardiospike.detector import Detector, ScoredRecording, load_detector
from cardiospike.recording import Recording
from cardiospike.summary import Episode, HRVSummary, episodes_of, hrv_summary

__version__ = package_version()

__all__ = [
    "ArtifactError",
    "Detector",
    "Episode",
    "HRVSummary",
    "Recording",
    "RecordingFormatError",
    "ScoredRecording",
    "__version__",
    "episodes_of",
    "hrv_summary",
    "load_artifact",
    "load_detector",
    "parse_recordings",
    "read_recordings",
    "simulate_recording",
]
