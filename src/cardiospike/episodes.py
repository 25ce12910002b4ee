"""Anomaly episodes: runs of consecutive anomalous beats, with their times and peak probability."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cardiospike.arrays import flag_runs
from cardiospike.recording import FloatArray


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


def runs_of_flags(flags: NDArray[np.bool_], time: FloatArray, proba: FloatArray, offset: int = 0) -> list[Episode]:
    """Runs of consecutive ``True`` in ``flags``, with their times and peak probability; beat indices start at
    ``offset``."""
    starts, stops = flag_runs(flags)
    if starts.size == 0:
        return []
    ends = stops - 1
    # Beats outside episodes get -inf, so each segment's maximum is the maximum over its episode alone.
    peaks = np.maximum.reduceat(np.where(flags, proba, -np.inf), starts)
    return [
        Episode(int(s) + offset, int(e) + offset, float(time[s]), float(time[e]), int(e - s + 1), round(float(p), 6))
        for s, e, p in zip(starts, ends, peaks, strict=True)
    ]
