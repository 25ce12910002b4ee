"""Per-beat and per-recording metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    # Competition F1 = tp / (tp + (fp + fn) / 2); a recording with nothing to find and nothing flagged scores 1.
    f1 = tp / (tp + (fp + fn) / 2) if tp + fp + fn else 1.0
    return precision, recall, f1


def beat_metrics(y: np.ndarray, flags: np.ndarray, proba: np.ndarray | None = None) -> dict[str, Any]:
    """Per-beat precision, recall and F1 of ``flags``, and PR-AUC (average precision) of ``proba`` if given."""
    y = np.asarray(y).astype(bool)
    flags = np.asarray(flags).astype(bool)
    tp, fp, fn = int(np.sum(flags & y)), int(np.sum(flags & ~y)), int(np.sum(~flags & y))
    precision, recall, f1 = _prf(tp, fp, fn)
    metrics: dict[str, Any] = {"f1": f1, "precision": precision, "recall": recall}
    if proba is not None:
        metrics["pr_auc"] = float(average_precision_score(y, proba)) if y.any() else float("nan")
    return metrics | {"n_beats": int(y.size), "n_positive": int(y.sum())}


def recording_f1(ids: np.ndarray, y: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Precision, recall and F1 of each recording, worst F1 first."""
    frame = pd.DataFrame({"id": ids, "tp": y & pred, "fp": ~y & pred, "fn": y & ~pred, "n_beats": 1})
    counts = frame.astype({"tp": int, "fp": int, "fn": int}).groupby("id", sort=False).sum()
    tp, fp, fn = (counts[c].to_numpy(dtype=float) for c in ("tp", "fp", "fn"))
    with np.errstate(divide="ignore", invalid="ignore"):
        counts["precision"] = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        counts["recall"] = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        counts["f1"] = np.where(tp + fp + fn > 0, tp / (tp + (fp + fn) / 2), 1.0)
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
