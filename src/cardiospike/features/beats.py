"""The per-beat feature matrix the beat classifier learns from.

A labelled episode is a short spike in an otherwise steady stretch (one RR about 8% above the recording's median
followed at once by one about 8% below), with a few beats of context on each side. So beside windows of RR and
its successive differences, the features describe local variability at several widths and where the nearest
spike-shaped step lies. Everything is relative to the recording's median RR, so it does not depend on heart rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cardiospike.features.windows import (
    WindowSums,
    distance_to_flags,
    normalise_rr,
    shifted,
    step_before,
    window_max,
)
from cardiospike.recording import MODEL_RR_MAX_MS, MODEL_RR_MIN_MS, FloatArray, Recording, in_model_range

FEATURE_SET = "spike-context-v2"
#: Successive differences above this (relative to the median RR) count as "big" steps.
BIG_STEP = 0.05


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature matrix is made of; stored in the model artifact so scoring rebuilds the same matrix.

    Attributes
    ----------
    half_window : int
        Beats on each side of the centre beat in the windows of RR and of its successive differences.
    stat_halves : tuple of int
        Half-widths of the windows of local statistics (mean, SDNN, RMSSD, share of big steps).
    spike_half : int
        Beats on each side in the window of spike scores.
    spike_thresholds : tuple of float
        Spike sizes (relative to the median RR) whose distance from each beat is a feature.
    rr_min, rr_max : float
        Beats outside this open range (ms) are masked: missing in every RR-derived feature. Defaults: the models'
        input range (:data:`~cardiospike.recording.MODEL_RR_MIN_MS`, :data:`~cardiospike.recording.MODEL_RR_MAX_MS`).
    """

    half_window: int = 8
    stat_halves: tuple[int, ...] = (2, 4, 8, 16)
    spike_half: int = 5
    spike_thresholds: tuple[float, ...] = (0.03, 0.05, 0.08)
    rr_min: float = MODEL_RR_MIN_MS
    rr_max: float = MODEL_RR_MAX_MS
    name: str = FEATURE_SET

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        data = dict(data)
        for key in ("stat_halves", "spike_thresholds"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


def _offsets(half: int) -> range:
    return range(-half, half + 1)


def feature_names(spec: FeatureSpec) -> list[str]:
    """Column names of :func:`beat_features`, in order."""
    names = [f"r_{o:+d}" for o in _offsets(spec.half_window)]
    names += [f"d_{o:+d}" for o in _offsets(spec.half_window)]
    names += [f"dd_{o:+d}" for o in _offsets(3)]
    names += ["rr_ms", "median_rr", "n_beats", "beats_from_start", "beats_to_end", "valid_in_window", "valid"]
    for h in spec.stat_halves:
        names += [f"{s}_{2 * h + 1}" for s in ("mean", "sdnn", "deviation", "rmssd", "sdsd", "big_steps")]
    names += ["hr_relative"]
    names += [f"spike_{o:+d}" for o in _offsets(spec.spike_half)]
    names += [f"dip_{o:+d}" for o in _offsets(3)]
    names += ["spike_max_7", "spike_max_13"]
    for t in spec.spike_thresholds:
        names += [
            f"{what}_{t:g}"
            for what in ("since_spike", "until_spike", "nearest_spike", "since_up", "until_up", "since_down")
        ]
        names += [f"until_down_{t:g}", f"spikes_13_{t:g}"]
    return names


def beat_features(rr: FloatArray, spec: FeatureSpec) -> np.ndarray:
    """Feature matrix (n_beats, n_features) of one recording, float32, NaN where a value is missing.

    Every beat gets a row, also at the edges and in recordings shorter than the windows.
    """
    rr = np.asarray(rr, dtype=np.float64)
    n = rr.size
    valid = in_model_range(rr, spec.rr_min, spec.rr_max)
    r, median = normalise_rr(rr, valid)
    d = step_before(r)
    dd = step_before(d)
    position = np.arange(n, dtype=np.float64)
    valid_f = valid.astype(np.float64)
    columns: list[np.ndarray] = [
        shifted(r, _offsets(spec.half_window)),
        shifted(d, _offsets(spec.half_window)),
        shifted(dd, _offsets(3)),
        np.column_stack(
            [
                rr,
                np.full(n, median),
                np.full(n, float(n)),
                position,
                n - 1 - position,
                WindowSums(valid_f, spec.half_window).sums(spec.half_window)[1],
                valid_f,
            ]
        ),
    ]

    big = np.where(np.isnan(d), np.nan, (np.abs(d) > BIG_STEP).astype(np.float64))
    widest = max(spec.stat_halves)
    r_sums, d_sums, big_sums = WindowSums(r, widest), WindowSums(d, widest), WindowSums(big, widest)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty windows give NaN: missing, as intended
        for h in spec.stat_halves:
            count, total, squares = r_sums.sums(h)
            mean = total / count
            sdnn = np.sqrt(np.maximum(squares / count - mean**2, 0.0)) + np.where(count < 2, np.nan, 0.0)
            d_count, d_total, d_squares = d_sums.sums(h)
            d_mean = d_total / d_count
            rmssd = np.sqrt(d_squares / d_count)
            sdsd = np.sqrt(np.maximum(d_squares / d_count - d_mean**2, 0.0)) + np.where(d_count < 2, np.nan, 0.0)
            b_count, b_total, _ = big_sums.sums(h)
            columns.append(np.column_stack([mean, sdnn, r - mean, rmssd, sdsd, b_total / b_count]))
        columns.append((1.0 / r)[:, None])

    # Spike score: the smaller of the rise into this beat and the fall out of it (up then down).
    d_next = np.append(d[1:], np.nan)
    spike = np.fmin(d, -d_next)
    columns.append(shifted(spike, _offsets(spec.spike_half)))
    columns.append(shifted(np.fmin(-d, d_next), _offsets(3)))
    spike0 = np.where(np.isnan(spike), -1.0, spike)
    columns.append(np.column_stack([window_max(spike0, 3, -1.0), window_max(spike0, 6, -1.0)]))
    d0 = np.where(np.isnan(d), 0.0, d)
    for t in spec.spike_thresholds:
        is_spike = spike0 > t
        since, until = distance_to_flags(is_spike)
        since_up, until_up = distance_to_flags(d0 > t)
        since_down, until_down = distance_to_flags(d0 < -t)
        spikes_near = WindowSums(is_spike.astype(np.float64), 6).sums(6)[1]
        columns.append(
            np.column_stack(
                [since, until, np.fmin(since, until), since_up, until_up, since_down, until_down, spikes_near]
            )
        )
    return np.hstack(columns).astype(np.float32)


def features_for_recordings(recordings: Sequence[Recording], spec: FeatureSpec) -> np.ndarray:
    """Stack the feature matrices of many recordings (rows in recording, then beat order)."""
    return np.vstack([beat_features(rec.rr, spec) for rec in recordings])
