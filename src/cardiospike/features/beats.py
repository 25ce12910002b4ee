"""The per-beat feature matrix the beat classifiers learn from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cardiospike.features.windows import centred_windows, normalise_rr, rolling_hrv
from cardiospike.recording import DEFAULT_RR_MIN_MS, FloatArray, Recording

FEATURE_SET = "window-hrv-v1"


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature matrix is made of; stored in the model artifact so scoring rebuilds the same matrix.

    Attributes
    ----------
    half_window : int
        Beats on each side of the centre beat in the raw and difference windows (17-beat window: 8).
    hrv_halves : tuple of int
        Half-widths of the windows of local HRV statistics.
    rr_min, rr_max : float
        Beats outside this range (ms) are masked (treated as missing) in the features.
    """

    half_window: int = 8
    hrv_halves: tuple[int, ...] = (2, 4, 8)
    rr_min: float = DEFAULT_RR_MIN_MS
    rr_max: float = 1400.0
    name: str = FEATURE_SET

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        data = dict(data)
        data["hrv_halves"] = tuple(data.get("hrv_halves", cls.hrv_halves))
        return cls(**data)


def feature_names(spec: FeatureSpec) -> list[str]:
    """Column names of :func:`beat_features`, in order."""
    offsets = range(-spec.half_window, spec.half_window + 1)
    names = [f"r_{o:+d}" for o in offsets]
    names += [f"d_{o:+d}" for o in offsets]
    names += [f"valid_{o:+d}" for o in offsets]
    for h in spec.hrv_halves:
        names += [f"{stat}_{2 * h + 1}" for stat in ("rmssd", "sdnn", "pnn50", "hr")]
    names += ["median_rr", "edge_distance"]
    return names


def beat_features(rr: FloatArray, spec: FeatureSpec) -> np.ndarray:
    """Feature matrix (n_beats, n_features) of one recording, float32, NaN where a value is missing."""
    rr = np.asarray(rr, dtype=np.float64)
    n = rr.size
    valid = (rr >= spec.rr_min) & (rr <= spec.rr_max)
    r, median = normalise_rr(rr, valid)
    d = np.diff(r, prepend=np.nan)
    half = spec.half_window
    columns = [centred_windows(r, half), centred_windows(d, half), centred_windows(valid.astype(float), half)]
    for h in spec.hrv_halves:
        stats = rolling_hrv(r, h, median)
        columns.append(np.column_stack([stats[k] for k in ("rmssd", "sdnn", "pnn50", "hr")]))
    position = np.arange(n)
    columns.append(np.column_stack([np.full(n, median), np.minimum(position, n - 1 - position)]))
    return np.hstack(columns).astype(np.float32)


def features_for_recordings(recordings: Sequence[Recording], spec: FeatureSpec) -> np.ndarray:
    """Stack the feature matrices of many recordings (rows in recording, then beat order)."""
    return np.vstack([beat_features(rec.rr, spec) for rec in recordings])
