"""Per-beat and per-recording metrics, and the evaluation of a detector on labelled recordings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from cardiospike.artifact import Artifact, fingerprint
from cardiospike.detector import Detector
from cardiospike.metrics import boundary_errors, episode_counts, flag_counts, precision_recall_f1
from cardiospike.recording import Recording


def beat_metrics(y: np.ndarray, flags: np.ndarray, proba: np.ndarray | None = None) -> dict[str, Any]:
    """Per-beat precision, recall and F1 of ``flags``, and PR-AUC (average precision) of ``proba`` if given."""
    y = np.asarray(y).astype(bool)
    precision, recall, f1 = (float(v) for v in precision_recall_f1(*flag_counts(y, flags)))
    metrics: dict[str, Any] = {"f1": f1, "precision": precision, "recall": recall}
    if proba is not None:
        metrics["pr_auc"] = float(average_precision_score(y, proba)) if y.any() else float("nan")
    return metrics | {"n_beats": int(y.size), "n_positive": int(y.sum())}


def episode_metrics(ids: np.ndarray, y: np.ndarray, flags: np.ndarray) -> dict[str, Any]:
    """Labelled episodes found and missed, false episodes, the share of episodes found, and the mean distance in
    beats of a found episode's flagged start and end to its labelled ones (see :mod:`cardiospike.metrics`)."""
    found, missed, false = episode_counts(y, flags, ids)
    start, end = boundary_errors(y, flags, ids)
    return {
        "found": found,
        "missed": missed,
        "false": false,
        "recall": found / max(found + missed, 1),
        "start_error": float(np.abs(start).mean()) if start.size else 0.0,
        "end_error": float(np.abs(end).mean()) if end.size else 0.0,
    }


def recording_f1(ids: np.ndarray, y: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Precision, recall and F1 of each recording, worst F1 first."""
    frame = pd.DataFrame({"id": ids, "tp": y & pred, "fp": ~y & pred, "fn": y & ~pred, "n_beats": 1})
    counts = frame.astype({"tp": int, "fp": int, "fn": int}).groupby("id", sort=False).sum()
    counts["precision"], counts["recall"], counts["f1"] = precision_recall_f1(counts["tp"], counts["fp"], counts["fn"])
    return counts.reset_index().sort_values("f1", kind="stable")[
        ["id", "n_beats", "tp", "fp", "fn", "precision", "recall", "f1"]
    ]


def recording_summary(per_recording: pd.DataFrame, worst: int = 5) -> dict[str, Any]:
    """Mean and quartiles of per-recording F1, and the worst recordings."""
    f1 = per_recording["f1"]
    return {
        "mean": float(f1.mean()),
        "q25": float(f1.quantile(0.25)),
        "median": float(f1.median()),
        "q75": float(f1.quantile(0.75)),
        "worst": [
            {"id": str(row["id"]), "f1": float(row["f1"]), "n_beats": int(row["n_beats"])}
            for row in per_recording.nsmallest(worst, "f1").to_dict("records")
        ],
    }


@dataclass(frozen=True)
class Evaluation:
    """A detector's scores on labelled recordings: per beat over all of them, and per recording (worst first)."""

    overall: dict[str, Any]
    per_recording: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """The evaluation as JSON-able data: overall, a summary of per-recording F1, and every recording's scores."""
        return {
            "overall": self.overall,
            "per_recording_f1": recording_summary(self.per_recording),
            "recordings": self.per_recording.to_dict(orient="records"),
        }


def evaluate_detector(detector: Detector, recordings: Sequence[Recording]) -> Evaluation:
    """Precision, recall and F1 of ``detector``'s flags (and PR-AUC of its probabilities) on labelled recordings.

    Raises ValueError where a recording has no labels.
    """
    if any(r.labels is None for r in recordings):
        raise ValueError("evaluation needs labels: add a 'y' column (0/1 per beat)")
    scored = detector.score_many(recordings)
    y = np.concatenate([r.labels for r in recordings if r.labels is not None]).astype(bool)
    flags = np.concatenate([s.is_anomaly for s in scored])
    ids = np.repeat([r.id for r in recordings], [len(r) for r in recordings])
    return Evaluation(
        overall=beat_metrics(y, flags, np.concatenate([s.proba for s in scored])),
        per_recording=recording_f1(ids, y, flags),
    )


def in_training_data(artifact: Artifact, recordings: Sequence[Recording]) -> int | None:
    """How many of ``recordings`` the model was trained on, by their fingerprints (:func:`~cardiospike.artifact.
    fingerprint`: cut short, renamed or reordered, a training recording is still found); None where the model's
    manifest records no fingerprints."""
    known = artifact.fingerprints
    if known is None:
        return None
    return sum(fingerprint(r.rr) in known for r in recordings)


def overlap_warning(n_seen: int, n_recordings: int) -> str:
    """What ``evaluate`` says where ``n_seen`` of ``n_recordings`` are training recordings of the model."""
    return (
        f"{n_seen} of {n_recordings} recordings are in the model's training data: the figures overstate how it does "
        "on new patients"
    )
