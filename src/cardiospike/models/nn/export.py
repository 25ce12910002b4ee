"""Export of a trained network to ONNX, with a dynamic batch axis and, for whole-recording nets, a dynamic length."""

from __future__ import annotations

import json
import os
import tempfile
import warnings

import onnx
import torch
from torch import nn

from cardiospike.features import feature_names
from cardiospike.models.nn.inputs import INPUTS_VERSION, SEQUENCE_CHANNELS, WINDOW_CHANNELS
from cardiospike.models.nn.lit import BeatNetModule, NetConfig
from cardiospike.models.nn.runtime import (
    META_FEATURES,
    META_HALF,
    META_INPUTS,
    META_KIND,
    META_RR_MAX,
    META_RR_MIN,
)

OPSET = 17


def onnx_bytes(module: BeatNetModule) -> bytes:
    """The trained network as an ONNX model (outputs logits), with the metadata the runtime needs."""
    config: NetConfig = module.config
    net: nn.Module = module.net.cpu().eval()  # dropout off, as scored
    if config.kind in ("sequence", "features"):
        channels = len(SEQUENCE_CHANNELS) if config.kind == "sequence" else len(feature_names(config.feature_spec()))
        dummy = torch.zeros(1, channels, 64)
        axes = {"x": {0: "batch", 2: "beats"}, "logit": {0: "batch", 1: "beats"}}
    else:
        dummy = torch.zeros(4, 2 * config.half_window + 1, len(WINDOW_CHANNELS))
        axes = {"x": {0: "beats"}, "logit": {0: "beats"}}
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # The legacy (TorchScript) exporter is deprecated in favour of the dynamo one, which needs onnxscript; and it
        # warns that a GRU exported with variable length may fail at batch sizes above 1 with padding. The runtime
        # scores one unpadded recording per call, and the round-trip tests check lengths 1 to 1,500.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (dummy,),
            os.path.join(tmp, "net.onnx"),
            input_names=["x"],
            output_names=["logit"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
        model = onnx.load(os.path.join(tmp, "net.onnx"))
    meta = {
        META_KIND: config.kind,
        META_INPUTS: INPUTS_VERSION,
        META_HALF: str(config.half_window),
        META_RR_MIN: repr(config.rr_range()[0]),
        META_RR_MAX: repr(config.rr_range()[1]),
    }
    if config.kind == "features":
        meta[META_FEATURES] = json.dumps(config.feature_spec().to_dict())
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model.SerializeToString()


def export_onnx(module: BeatNetModule, path: str | os.PathLike[str]) -> None:
    """Write the trained network to an ONNX file (see :func:`onnx_bytes`)."""
    with open(path, "wb") as f:
        f.write(onnx_bytes(module))
