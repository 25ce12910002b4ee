"""The detector: loads a model artifact and scores recordings end to end."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cardiospike.artifact import Artifact, load_artifact
from cardiospike.features import beat_features
from cardiospike.recording import ERROR, ID, LABEL, PROBA, RR, TIME, FloatArray, Recording, measurement_errors


def default_model_path() -> Path:
    """Folder of the model shipped inside the package."""
    return Path(str(files("cardiospike") / "default_model"))


@dataclass(frozen=True, eq=False)
class ScoredRecording:
    """A recording with, per beat, the anomaly probability, the anomaly flag and the measurement-error flag."""

    recording: Recording
    proba: FloatArray
    is_anomaly: NDArray[np.bool_]
    error: NDArray[np.bool_]
    threshold: float

    def to_frame(self) -> pd.DataFrame:
        """One row per beat, in input order: ``id,time,x,y,anomaly_proba,error`` (y is the predicted label)."""
        rec = self.recording
        return pd.DataFrame(
            {
                ID: np.full(len(rec), rec.id, dtype=object),
                TIME: rec.time,
                RR: rec.rr,
                LABEL: self.is_anomaly.astype(np.int8),
                PROBA: np.round(self.proba, 6),
                ERROR: self.error.astype(np.int8),
            }
        )


class Detector:
    """Scores RR recordings with a trained artifact.

    Parameters
    ----------
    artifact : Artifact
        A loaded model artifact (see :func:`load_detector`).
    """

    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact

    @property
    def threshold(self) -> float:
        return self.artifact.threshold

    @property
    def model_version(self) -> str:
        return self.artifact.model_version

    def predict_proba(self, rr: FloatArray) -> FloatArray:
        """Anomaly probability of every beat of one recording's RR intervals."""
        X = beat_features(rr, self.artifact.features)
        return np.asarray(self.artifact.model.predict_proba(X)[:, 1], dtype=np.float64)

    def score(self, recording: Recording, threshold: float | None = None) -> ScoredRecording:
        """Score one recording; ``threshold`` overrides the model's decision threshold."""
        return self._scored(recording, self.predict_proba(recording.rr), threshold)

    def score_many(self, recordings: Sequence[Recording], threshold: float | None = None) -> list[ScoredRecording]:
        """Score many recordings with one call of the model (faster than one call per recording)."""
        if not recordings:
            return []
        X = np.vstack([beat_features(r.rr, self.artifact.features) for r in recordings])
        proba = np.asarray(self.artifact.model.predict_proba(X)[:, 1], dtype=np.float64)
        parts = np.split(proba, np.cumsum([len(r) for r in recordings])[:-1])
        return [self._scored(r, p, threshold) for r, p in zip(recordings, parts, strict=True)]

    def _scored(self, recording: Recording, proba: FloatArray, threshold: float | None) -> ScoredRecording:
        thr = self.threshold if threshold is None else float(threshold)
        low, high = self.artifact.rr_range
        return ScoredRecording(
            recording=recording,
            proba=proba,
            is_anomaly=proba >= thr,
            error=measurement_errors(recording.rr, low, high),
            threshold=thr,
        )


def load_detector(model: str | os.PathLike[str] | None = None) -> Detector:
    """Load a detector from an artifact folder, or the default model shipped with the package."""
    return Detector(load_artifact(default_model_path() if model is None else model))
