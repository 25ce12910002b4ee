"""Export of a trained network to ONNX: its kind's layout gives the dynamic axes, its inputs the metadata."""

from __future__ import annotations

import os
import tempfile
import warnings

import onnx
import torch
from torch import nn

from cardiospike.models.nn.lit import BeatNetModule
from cardiospike.models.nn.meta import write_metadata

OPSET = 17


def onnx_bytes(module: BeatNetModule) -> bytes:
    """The trained network as an ONNX model (outputs logits), with the metadata the runtime needs."""
    network, inputs = module.config.network, module.config.inputs()
    net: nn.Module = module.net.cpu().eval()  # dropout off, as scored
    dummy = torch.zeros(*network.layout.onnx_dummy_shape(inputs, network.n_inputs(inputs)))
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        # The legacy (TorchScript) exporter is deprecated in favour of the dynamo one, which needs onnxscript; and it
        # warns that a GRU exported with variable length may fail at batch sizes above 1 with padding. The runtime
        # scores windows of one length in a batch (padded only as training pads its crops) or one unpadded recording
        # per call, and the round-trip tests check both.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (dummy,),
            os.path.join(tmp, "net.onnx"),
            input_names=["x"],
            output_names=["logit"],
            dynamic_axes=network.layout.onnx_axes(),
            opset_version=OPSET,
            dynamo=False,
        )
        model = onnx.load(os.path.join(tmp, "net.onnx"))
    for key, value in write_metadata(inputs, module.config.windowing()).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model.SerializeToString()


def export_onnx(module: BeatNetModule, path: str | os.PathLike[str]) -> None:
    """Write the trained network to an ONNX file (see :func:`onnx_bytes`)."""
    with open(path, "wb") as f:
        f.write(onnx_bytes(module))
