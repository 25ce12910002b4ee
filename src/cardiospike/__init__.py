"""CardioSpike: beat-by-beat detection of anomaly episodes in heart RR-interval recordings.

The public API is imported on first use (PEP 562), so that ``import cardiospike`` and every command-line start-up
(``cardiospike --help`` above all) load none of pandas, scikit-learn or LightGBM until a name needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from cardiospike.version import package_version

if TYPE_CHECKING:  # what type checkers see; _PUBLIC says the same to the running program (a test checks they agree)
    from cardiospike.artifact import ArtifactError as ArtifactError
    from cardiospike.artifact import load_artifact as load_artifact
    from cardiospike.data import RecordingFormatError as RecordingFormatError
    from cardiospike.data import as_recording as as_recording
    from cardiospike.data import parse_recordings as parse_recordings
    from cardiospike.data import read_recordings as read_recordings
    from cardiospike.data import simulate_recording as simulate_recording
    from cardiospike.data.synthetic import sample_path as sample_path
    from cardiospike.detector import Detector as Detector
    from cardiospike.detector import ScoredRecording as ScoredRecording
    from cardiospike.detector import load_detector as load_detector
    from cardiospike.recording import Recording as Recording
    from cardiospike.summary import Episode as Episode
    from cardiospike.summary import HRVSummary as HRVSummary
    from cardiospike.summary import episodes_of as episodes_of
    from cardiospike.summary import hrv_summary as hrv_summary


#: Each public name and the module it lives in.
_PUBLIC = {
    "ArtifactError": "cardiospike.artifact",
    "load_artifact": "cardiospike.artifact",
    "RecordingFormatError": "cardiospike.data",
    "as_recording": "cardiospike.data",
    "parse_recordings": "cardiospike.data",
    "read_recordings": "cardiospike.data",
    "simulate_recording": "cardiospike.data",
    "sample_path": "cardiospike.data.synthetic",
    "Detector": "cardiospike.detector",
    "ScoredRecording": "cardiospike.detector",
    "load_detector": "cardiospike.detector",
    "Recording": "cardiospike.recording",
    "Episode": "cardiospike.summary",
    "HRVSummary": "cardiospike.summary",
    "episodes_of": "cardiospike.summary",
    "hrv_summary": "cardiospike.summary",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the installed metadata on first use: that takes a while
        return package_version()
    if name not in _PUBLIC:
        raise AttributeError(f"module 'cardiospike' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value  # later look-ups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
