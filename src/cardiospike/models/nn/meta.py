"""The metadata an exported network carries: how the runtime rebuilds its inputs. Torch-free.

Keys, in the order they are written: ``kind``, ``inputs`` (the input layout's version), ``half_window``,
``rr_min``, ``rr_max`` and, for a kind that reads the feature matrix, ``features`` (a FeatureSpec as JSON). Every
kind writes ``half_window`` (the default where it has no windows), as every exported file so far has.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from cardiospike.features import FeatureSpec
from cardiospike.models.nn.inputs import INPUTS_VERSION
from cardiospike.models.nn.kinds import DEFAULT_HALF_WINDOW, NetInputs, network_kind
from cardiospike.models.nn.windows import Windowing

META_KIND = "kind"
META_INPUTS = "inputs"
META_HALF = "half_window"
META_RR_MIN = "rr_min"
META_RR_MAX = "rr_max"
META_FEATURES = "features"
#: ``length,context`` of the windows a whole-recording kind is scored on; absent for a window kind.
META_WINDOWS = "windows"


def write_metadata(inputs: NetInputs, windowing: Windowing | None = None) -> dict[str, str]:
    """The metadata entries of a network whose inputs are ``inputs``, in the order they are written."""
    meta = {
        META_KIND: inputs.kind,
        META_INPUTS: INPUTS_VERSION,
        META_HALF: str(inputs.half_window),
        META_RR_MIN: repr(inputs.rr_min),
        META_RR_MAX: repr(inputs.rr_max),
    }
    if inputs.features is not None:
        meta[META_FEATURES] = json.dumps(inputs.features.to_dict())
    if windowing is not None:
        meta[META_WINDOWS] = f"{windowing.length},{windowing.context}"
    return meta


def read_windowing(meta: Mapping[str, str]) -> Windowing | None:
    """The windows an exported network is scored on (None: none recorded, as for a window kind)."""
    if META_WINDOWS not in meta:
        return None
    length, context = (int(part) for part in meta[META_WINDOWS].split(","))
    return Windowing(length, context)


def read_metadata(meta: Mapping[str, str]) -> NetInputs:
    """The inputs an exported network reads; ValueError for another input layout or an unknown kind."""
    if meta.get(META_INPUTS) != INPUTS_VERSION:
        raise ValueError(
            f"network inputs {meta.get(META_INPUTS)!r} are not the supported {INPUTS_VERSION!r}: "
            "re-export the network with this version of cardiospike"
        )
    kind = meta[META_KIND]
    try:
        reads_features = network_kind(kind).reads_features
    except ValueError:
        raise ValueError(f"unknown network kind {kind!r} in the ONNX metadata") from None
    return NetInputs(
        kind,
        half_window=int(meta.get(META_HALF, str(DEFAULT_HALF_WINDOW))),
        rr_min=float(meta[META_RR_MIN]),
        rr_max=float(meta[META_RR_MAX]),
        features=FeatureSpec.from_dict(json.loads(meta[META_FEATURES])) if reads_features else None,
    )
