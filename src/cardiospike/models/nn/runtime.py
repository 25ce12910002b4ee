"""Scoring an exported network with ONNX Runtime: numpy and onnxruntime only, never torch.

The ONNX file carries, in its metadata, what the runtime needs to rebuild the inputs (kind, input layout version,
window half-width, RR range, feature set), so a file cannot be fed the wrong layout.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

from cardiospike.features import FeatureSpec
from cardiospike.models.nn.inputs import INPUTS_VERSION, feature_inputs, sequence_inputs, window_inputs

FloatArray = NDArray[np.float64]

#: Metadata keys written by :func:`cardiospike.models.nn.export.export_onnx`.
META_KIND, META_INPUTS, META_HALF, META_RR_MIN, META_RR_MAX = "kind", "inputs", "half_window", "rr_min", "rr_max"
#: The feature matrix (a FeatureSpec as JSON) a "features" network reads.
META_FEATURES = "features"
KINDS = ("sequence", "cardionet", "features")


def sigmoid(logits: NDArray[np.floating]) -> FloatArray:
    """Logistic function in float64, without overflow warnings for large negative logits."""
    z = np.asarray(logits, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


class OnnxBeatNet:
    """Per-beat anomaly probabilities from an exported network.

    Parameters
    ----------
    model : path or bytes
        The ONNX file written by :func:`~cardiospike.models.nn.export.export_onnx`, or its bytes.
    num_threads : int
        ONNX Runtime intra-op threads (1: one core, as in serving with several worker processes).
    """

    def __init__(self, model: str | os.PathLike[str] | bytes, num_threads: int = 1) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        source = model if isinstance(model, bytes) else os.fspath(model)
        self.session = ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        if meta.get(META_INPUTS) != INPUTS_VERSION:
            raise ValueError(
                f"network inputs {meta.get(META_INPUTS)!r} are not the supported {INPUTS_VERSION!r}: "
                "re-export the network with this version of cardiospike"
            )
        self.kind = meta[META_KIND]
        if self.kind not in KINDS:
            raise ValueError(f"unknown network kind {self.kind!r} in the ONNX metadata")
        self.half_window = int(meta.get(META_HALF, "8"))
        self.rr_min, self.rr_max = float(meta[META_RR_MIN]), float(meta[META_RR_MAX])
        self.features = FeatureSpec.from_dict(json.loads(meta[META_FEATURES])) if self.kind == "features" else None
        self._input = self.session.get_inputs()[0].name

    def logits(self, rr: NDArray[np.floating], features: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
        """Per-beat logits of one recording's RR intervals (ms).

        ``features``: the recording's feature matrix (``beat_features`` with :attr:`features`, shape (n, n_features))
        where the caller has computed it already (the detector, for LightGBM); only a "features" network reads it.
        """
        rr = np.asarray(rr, dtype=np.float64)
        if rr.size == 0:
            return np.zeros(0, dtype=np.float32)
        if self.kind == "cardionet":  # one window per beat: a batch of beats
            x = window_inputs(rr, self.half_window, self.rr_min, self.rr_max)
            return np.asarray(self.session.run(None, {self._input: x})[0])
        # Whole-recording networks: a batch of one recording.
        if self.features is not None:
            x = feature_inputs(rr, self.features) if features is None else np.ascontiguousarray(features.T)
        else:
            x = sequence_inputs(rr, self.rr_min, self.rr_max)
        return np.asarray(self.session.run(None, {self._input: x[None]})[0][0])

    def predict_proba(self, rr: NDArray[np.floating], features: NDArray[np.float32] | None = None) -> FloatArray:
        """Per-beat anomaly probabilities (float64) of one recording's RR intervals (ms); see :meth:`logits`."""
        return sigmoid(self.logits(rr, features))

    def predict_many(
        self, rrs: Sequence[NDArray[np.floating]], features: Sequence[NDArray[np.float32]] | None = None
    ) -> list[FloatArray]:
        """Probabilities of several recordings, each scored whole (no padding, so no effect of batch neighbours)."""
        if features is None:
            return [self.predict_proba(rr) for rr in rrs]
        return [self.predict_proba(rr, f) for rr, f in zip(rrs, features, strict=True)]
