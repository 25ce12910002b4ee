"""Scoring an exported network with ONNX Runtime: numpy and onnxruntime only, never torch.

The ONNX file carries, in its metadata (:mod:`~cardiospike.models.nn.meta`), what the runtime needs to rebuild the
inputs (kind, input layout version, window half-width, RR range, feature set), so a file cannot be fed the wrong
layout; the kind's entry in :data:`~cardiospike.models.nn.kinds.KINDS` says how its beats are batched.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

from cardiospike.models.nn.kinds import network_kind
from cardiospike.models.nn.meta import read_metadata

FloatArray = NDArray[np.float64]


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
        self.inputs = read_metadata(self.session.get_modelmeta().custom_metadata_map)
        self.kind = self.inputs.kind
        #: The feature matrix the network reads (None: it reads RR alone).
        self.features = self.inputs.features
        self._layout = network_kind(self.kind).layout
        self._input = self.session.get_inputs()[0].name

    def logits(self, rr: NDArray[np.floating], features: NDArray[np.float32] | None = None) -> NDArray[np.float32]:
        """Per-beat logits of one recording's RR intervals (ms).

        ``features``: the recording's feature matrix (``beat_features`` with :attr:`features`, shape (n, n_features))
        where the caller has computed it already (the detector, for LightGBM); only a "features" network reads it.
        """
        rr = np.asarray(rr, dtype=np.float64)
        if rr.size == 0:
            return np.zeros(0, dtype=np.float32)
        # A feature network reads the caller's feature matrix where it has computed one already.
        x = np.ascontiguousarray(features.T) if features is not None and self.features is not None else self.inputs(rr)
        return np.asarray(self._layout.unbatch(self.session.run(None, {self._input: self._layout.batch(x)})[0]))

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
