"""Per-beat and per-recording metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from cardiospike.metrics import flag_counts, precision_recall_f1


def beat_metrics(y: np.ndarray, flags: np.ndarray, proba: np.ndarray | None = None) -> dict[str, Any]:
    """Per-beat precision, recall and F1 of ``flags``, and PR-AUC (average precision) of ``proba`` if given."""
    y = np.asarray(y).astype(bool)
    precision, recall, f1 = (float(v) for v in precision_recall_f1(*flag_counts(y, flags)))
    metrics: dict[str, Any] = {"f1": f1, "precision": precision, "recall": recall}
    if proba is not None:
        metrics["pr_auc"] = float(average_precision_score(y, proba)) if y.any() else float("nan")
    return metrics | {"n_beats": int(y.size), "n_positive": int(y.sum())}


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
