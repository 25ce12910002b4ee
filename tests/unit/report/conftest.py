"""Scored recordings for the report tests, made without a model: the flags are the simulated labels."""

from __future__ import annotations

from typing import Any

import numpy as np

from cardiospike.data import simulate_recording
from cardiospike.detector import ScoredRecording
from cardiospike.recording import Recording, measurement_errors
from cardiospike.report import ModelInfo, SourceInfo

MODEL = ModelInfo(version="stack-test", threshold=0.39, cv_f1=0.8612, rr_range=(300.0, 2000.0))
SOURCE = SourceInfo.of_bytes("rr.csv", b"id,time,x\n")


def scored(recording: Recording, threshold: float = 0.39) -> ScoredRecording:
    """``recording`` scored as if by a perfect model: probability 0.9 on its labelled beats, 0.1 elsewhere."""
    assert recording.labels is not None
    flags = recording.labels.astype(bool)
    proba = np.where(flags, 0.9, 0.1)
    return ScoredRecording(recording, proba, flags, measurement_errors(recording.rr), threshold)


def simulated(n_beats: int, seed: int = 1, id: str | None = None, **kwargs: Any) -> ScoredRecording:
    return scored(simulate_recording(n_beats, seed=seed, id=id, **kwargs))
