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

from cardiospike.arrays import sigmoid
from cardiospike.models.nn.kinds import network_kind
from cardiospike.models.nn.meta import read_metadata, read_windowing
from cardiospike.models.nn.windows import cut

FloatArray = NDArray[np.float64]
#: Windows scored in one call of ONNX Runtime: bounds the memory of a call. Small batches stay in the CPU's caches:
#: on one core, 8 windows a call scored a 120,000-beat recording in 0.81 s at 248 MB peak, 64 in 1.07 s at 322 MB,
#: with the same probabilities to the last bit.
WINDOWS_PER_CALL = 8


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
        self.inputs = read_metadata(meta)
        #: The windows a whole-recording kind is scored on (None: a window kind, one window per beat).
        self.windowing = read_windowing(meta)
        self.kind = self.inputs.kind
        #: The feature matrix the network reads (None: it reads RR alone).
        self.features = self.inputs.features
        self._layout = network_kind(self.kind).layout
        if self.windowing is None and not self._layout.windows:
            raise ValueError("the network reads whole recordings (no windows in its metadata): retrain it")
        self._input = self.session.get_inputs()[0].name

    @property
    def reach(self) -> int:
        """The furthest (in beats) a beat's probability looks from it, either way: its window's beats (at most
        ``length - context - 1`` away) and how far their inputs look."""
        window = 0 if self.windowing is None else self.windowing.length - self.windowing.context - 1
        return window + self.inputs.reach

    def anomaly_proba(self, rr: NDArray[np.floating], features: NDArray[np.float32] | None = None) -> FloatArray:
        """Per-beat anomaly probabilities, shape (n,), float64, of one recording's n RR intervals (ms).

        ``features``: the recording's feature matrix (``beat_features`` with :attr:`features`, shape (n, n_features))
        where the caller has computed it already (the detector, for LightGBM); only a "features" network reads it.
        """
        return self.predict_many([rr], None if features is None else [features])[0]

    def predict_many(
        self,
        rrs: Sequence[NDArray[np.floating]],
        features: Sequence[NDArray[np.float32]] | None = None,
        offsets: Sequence[int] | None = None,
    ) -> list[FloatArray]:
        """Probabilities of several recordings (see :meth:`anomaly_proba`): their windows in batches (a window's
        output never depends on the others), or for a window kind each recording's windows, one call each.

        ``offsets``: each recording is a piece that starts at that beat of a longer one, cut into windows as the
        whole is (see :meth:`~cardiospike.models.nn.windows.Windowing.spans`); default: whole recordings.
        """
        rrs = [np.asarray(rr, dtype=np.float64) for rr in rrs]
        shared = self.features is not None and features is not None  # a feature network reads the caller's matrices
        if self.windowing is None:  # a window kind: every beat is the centre of a window of its own
            return [sigmoid(self._whole(self.inputs(rr))) if rr.size else np.zeros(0) for rr in rrs]
        windows = cut([rr.size for rr in rrs], self.windowing, offsets)
        sources = list(features) if shared else [self.inputs(rr) for rr in rrs]  # type: ignore[arg-type]
        logits = windows.run(self._run, sources, network_kind(self.kind).padding, WINDOWS_PER_CALL, rows=shared)
        return np.split(sigmoid(logits), np.cumsum([rr.size for rr in rrs])[:-1])

    def _whole(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Per-beat logits of one recording's inputs: its windows of beats, one batch."""
        return np.asarray(self._layout.unbatch(self._run(self._layout.batch(x))))

    def _run(self, batch: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.asarray(self.session.run(None, {self._input: batch})[0])
