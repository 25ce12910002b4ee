"""Network inputs built from RR intervals with numpy alone (no torch), shared by training and the ONNX runtime.

Three layouts:

* :func:`sequence_inputs`: one column per beat of a whole recording, for the sequence labeller; shape (4, n).
* :func:`window_inputs`: a centred window of beats around each beat, for CardioNet; shape (n, 2 * half + 1, 3).
* :func:`feature_inputs`: the per-beat feature matrix of :mod:`cardiospike.features`, one column per beat, for the
  feature network; shape (n_features, n).

Beats outside the models' input range (:func:`cardiospike.recording.in_model_range`, 300-1,400 ms) are masked
(value 0, mask 0), as in the LightGBM features. Everything is relative (to the local level, the rolling median of
:mod:`cardiospike.features`, or the window's mean), so the inputs do not depend on heart rate, and a beat's inputs
depend only on the beats around it, never on the recording's length.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from cardiospike.features import FeatureSpec, beat_features
from cardiospike.features.beats import LEVEL_HALF
from cardiospike.features.windows import WindowSums, centred_median
from cardiospike.recording import MODEL_RR_MAX_MS, MODEL_RR_MIN_MS, in_model_range

#: Version of the input layout; stored with exported networks so a runtime never feeds one layout to another.
INPUTS_VERSION = "nn-inputs-v2"
#: Labelled spikes are steps of about 8% of the median RR; scaling by 10 puts them near 1, where networks train well.
SCALE = 10.0
#: Relative deviations beyond +-50% (scaled: 5) carry no more information about a spike and would dominate.
CLIP = 5.0
SEQUENCE_CHANNELS = ("rr_rel", "step", "rr_rel_local", "valid")
#: Half-width of the local mean in ``rr_rel_local`` (the 17-beat window that CardioNet scales by).
LOCAL_HALF = 8
WINDOW_CHANNELS = ("rr_rel_window", "log_rr_z_window", "valid")

Float32Array = NDArray[np.float32]


def sequence_inputs(
    rr: NDArray[np.floating], rr_min: float = MODEL_RR_MIN_MS, rr_max: float = MODEL_RR_MAX_MS
) -> Float32Array:
    """Per-beat channels of one recording for the sequence labeller, shape (4, n), float32.

    Channels: ``rr_rel`` = RR / the median valid RR within :data:`~cardiospike.features.beats.LEVEL_HALF` beats
    - 1; ``step`` = the change of ``rr_rel`` from the previous beat (0 where either beat is invalid, and for the
    first beat); ``rr_rel_local`` = RR / the mean valid RR of the
    centred window of ``2 * LOCAL_HALF + 1`` beats - 1 (free of slow drifts of the heart rate, which the spikes
    ride on); ``valid`` = 1 for beats in range. Relative values
    are scaled by :data:`SCALE` and clipped to +-:data:`CLIP`; invalid beats are 0 in every channel.
    """
    rr = np.asarray(rr, dtype=np.float64)
    valid = in_model_range(rr, rr_min, rr_max)
    out = np.zeros((len(SEQUENCE_CHANNELS), rr.size), dtype=np.float32)
    if not valid.any():
        return out
    level = centred_median(np.where(valid, rr, np.nan), LEVEL_HALF)
    rel = np.where(valid, np.clip(SCALE * (rr / level - 1.0), -CLIP, CLIP), 0.0)
    step = np.zeros(rr.size)
    both = valid[1:] & valid[:-1]
    step[1:] = np.where(both, np.clip(rel[1:] - rel[:-1], -CLIP, CLIP), 0.0)
    # Centred window means, the same to the bit in a piece of the recording (see WindowSums); every window holds its
    # own valid centre beat when it matters.
    count, total = WindowSums(np.where(valid, rr, np.nan), LOCAL_HALF).totals(LOCAL_HALF)
    local = total / np.maximum(count, 1.0)
    rel_local = np.where(valid, np.clip(SCALE * (rr / np.where(valid, local, 1.0) - 1.0), -CLIP, CLIP), 0.0)
    out[0], out[1], out[2], out[3] = rel, step, rel_local, valid
    return out


def window_inputs(
    rr: NDArray[np.floating], half: int = 8, rr_min: float = MODEL_RR_MIN_MS, rr_max: float = MODEL_RR_MAX_MS
) -> Float32Array:
    """Centred windows of ``2 * half + 1`` beats around every beat for CardioNet, shape (n, 2 * half + 1, 3).

    Each window is scaled on its own, as in the hackathon winner's network: ``rr_rel_window`` = RR / the window's
    mean valid RR - 1 (scaled by :data:`SCALE`), ``log_rr_z_window`` = log RR standardised by the window's mean and
    standard deviation (shape regardless of amplitude), ``valid``. Beats past either end of the recording and
    invalid beats are 0 in every channel.
    """
    rr = np.asarray(rr, dtype=np.float64)
    n, width = rr.size, 2 * half + 1
    if n == 0:
        return np.zeros((0, width, 3), dtype=np.float32)
    padded = np.full(n + 2 * half, np.nan)
    padded[half : half + n] = rr
    win = sliding_window_view(padded, width)  # (n, width), a view: no copy
    valid = in_model_range(win, rr_min, rr_max)  # NaN compares False: ends are invalid
    count = valid.sum(axis=1, keepdims=True)
    safe = np.where(valid, win, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(valid, safe, 0.0).sum(axis=1, keepdims=True) / count
        log = np.log(safe)
        log_mean = np.where(valid, log, 0.0).sum(axis=1, keepdims=True) / count
        log_sd = np.sqrt(np.where(valid, (log - log_mean) ** 2, 0.0).sum(axis=1, keepdims=True) / count)
        rel = np.clip(SCALE * (safe / mean - 1.0), -CLIP, CLIP)
        # 0.01 (1% of RR) keeps flat windows from blowing noise up to unit variance.
        z = np.clip((log - log_mean) / (log_sd + 0.01), -CLIP, CLIP)
    out = np.zeros((n, width, 3), dtype=np.float32)
    out[..., 0] = np.where(valid, rel, 0.0)
    out[..., 1] = np.where(valid, z, 0.0)
    out[..., 2] = valid
    return out


def feature_inputs(rr: NDArray[np.floating], spec: FeatureSpec) -> Float32Array:
    """The per-beat feature matrix of one recording, transposed to (n_features, n), float32, NaN where missing.

    Standardisation and the handling of missing values belong to the network (see
    :class:`~cardiospike.models.nn.net.FeatureNet`), so that its exported file carries them.
    """
    return np.ascontiguousarray(beat_features(np.asarray(rr, dtype=np.float64), spec).T)
