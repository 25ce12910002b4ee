"""Summaries of a scored recording: its anomaly episodes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cardiospike.detector import ScoredRecording


@dataclass(frozen=True)
class Episode:
    """A run of consecutive anomalous beats; ``start`` and ``end`` are beat indices, both included."""

    start: int
    end: int
    start_ms: float
    end_ms: float
    n_beats: int
    max_proba: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_episodes(flags: np.ndarray, time: np.ndarray, proba: np.ndarray) -> list[Episode]:
    """Runs of consecutive ``True`` in ``flags``, with their times and peak probability."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    if starts.size == 0:
        return []
    # Beats outside episodes get -inf, so each segment's maximum is the maximum over its episode alone.
    peaks = np.maximum.reduceat(np.where(flags, proba, -np.inf), starts)
    return [
        Episode(int(s), int(e), float(time[s]), float(time[e]), int(e - s + 1), round(float(p), 6))
        for s, e, p in zip(starts, ends, peaks, strict=True)
    ]


def episodes_of(scored: ScoredRecording) -> list[Episode]:
    """Anomaly episodes of a scored recording."""
    return find_episodes(scored.is_anomaly, scored.recording.time, scored.proba)
