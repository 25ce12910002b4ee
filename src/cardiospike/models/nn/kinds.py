"""The network kinds, each declared once: its architecture fields, inputs, builder and batch layout.

A kind is one entry of :data:`KINDS`; training (:mod:`~cardiospike.models.nn.lit`), export
(:mod:`~cardiospike.models.nn.export`) and the ONNX runtime (:mod:`~cardiospike.models.nn.runtime`) look it up
there rather than switching on its name, so adding a kind touches this module alone.

Torch-free: the runtime imports this module where torch is not installed; builders import the networks (and so
torch) only when called.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from cardiospike.features import FeatureSpec, feature_names
from cardiospike.features.beats import LEVEL_HALF
from cardiospike.models.nn.inputs import (
    SEQUENCE_CHANNELS,
    WINDOW_CHANNELS,
    Float32Array,
    feature_inputs,
    sequence_inputs,
    window_inputs,
)
from cardiospike.recording import MODEL_RR_MAX_MS, MODEL_RR_MIN_MS

if TYPE_CHECKING:
    from torch import nn

#: Half-width of a window kind's window where none is given (CardioNet's 17 beats).
DEFAULT_HALF_WINDOW = 8


@dataclass(frozen=True)
class NetInputs:
    """How a network's inputs are built from a recording's RR intervals; the exported file records it.

    Attributes
    ----------
    kind : str
        The network kind (a key of :data:`KINDS`).
    half_window : int
        Beats on each side of a window kind's windows.
    rr_min, rr_max : float
        Beats outside this open range (ms) are masked in the inputs.
    features : FeatureSpec or None
        The feature matrix a feature kind reads.
    """

    kind: str
    half_window: int = DEFAULT_HALF_WINDOW
    rr_min: float = MODEL_RR_MIN_MS
    rr_max: float = MODEL_RR_MAX_MS
    features: FeatureSpec | None = None

    def __call__(self, rr: NDArray[np.floating]) -> Float32Array:
        """The input array of one recording (unbatched)."""
        return KINDS[self.kind].inputs(rr, self)

    @property
    def reach(self) -> int:
        """The furthest (in beats) a beat's inputs look from it, either way."""
        if self.features is not None:
            return self.features.reach
        if KINDS[self.kind].layout.windows:
            return self.half_window  # each window is scaled by its own beats
        return LEVEL_HALF + 1  # the rolling level, and the step from the beat before


# --- architectures: each kind's own fields ----------------------------------------------------------------------


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    """Configuration values with lists (as YAML and JSON give them) as tuples, as the dataclasses hold them."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}


@dataclass(frozen=True)
class SequenceArch:
    """:class:`~cardiospike.models.nn.net.SequenceNet`: dilated temporal convolutions + BiGRU over RR channels."""

    channels: int = 48
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    gru_hidden: int = 32
    dropout: float = 0.1

    def inputs(self) -> NetInputs:
        return NetInputs("sequence")


@dataclass(frozen=True)
class CardioNetArch:
    """:class:`~cardiospike.models.nn.net.CardioNet`: convolutions + BiGRU with attention over a window of beats."""

    half_window: int = DEFAULT_HALF_WINDOW
    conv_channels: int = 32
    kernels: tuple[int, ...] = (3, 5, 7, 9)
    gru_hidden: int = 32
    mlp_hidden: int = 64
    dropout: float = 0.1

    def inputs(self) -> NetInputs:
        return NetInputs("cardionet", half_window=self.half_window)


@dataclass(frozen=True)
class FeatureArch:
    """:class:`~cardiospike.models.nn.net.FeatureNet` over the feature matrix that ``features`` describes.

    ``features`` is a :class:`~cardiospike.features.FeatureSpec` as a dict (None: the default one). Its RR range is
    the network's too, since the network reads nothing but the features.
    """

    features: dict[str, Any] | None = None
    channels: int = 48
    kernel: int = 5
    gru_hidden: int = 32
    dropout: float = 0.1

    def feature_spec(self) -> FeatureSpec:
        return FeatureSpec() if self.features is None else FeatureSpec.from_dict(self.features)

    def inputs(self) -> NetInputs:
        spec = self.feature_spec()
        return NetInputs("features", rr_min=spec.rr_min, rr_max=spec.rr_max, features=spec)


# --- batch layouts --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How a kind's beats are batched, in training, export and scoring.

    ``windows``: the inputs of a recording hold one window per beat, shape (n, window, channels), and are a batch
    of beats as they are; training samples beats. Otherwise the inputs are the whole recording, shape (channels, n),
    scored as a batch of one (any length); training takes crops of recordings.
    """

    windows: bool

    def batch(self, x: Any) -> Any:
        """One recording's inputs (numpy or torch) as the batch the network reads."""
        return x if self.windows else x[None]

    def unbatch(self, logits: Any) -> Any:
        """The recording's per-beat logits from the network's output for :meth:`batch`."""
        return logits if self.windows else logits[0]

    def onnx_dummy_shape(self, inputs: NetInputs, n_inputs: int) -> tuple[int, ...]:
        """Shape of the example input the ONNX export traces (its varying axes are dynamic)."""
        return (4, 2 * inputs.half_window + 1, n_inputs) if self.windows else (1, n_inputs, 64)

    def onnx_axes(self) -> dict[str, dict[int, str]]:
        """The dynamic axes of the exported input ``x`` and output ``logit``."""
        if self.windows:
            return {"x": {0: "beats"}, "logit": {0: "beats"}}
        return {"x": {0: "batch", 2: "beats"}, "logit": {0: "batch", 1: "beats"}}


CROPS = Layout(windows=False)
WINDOWS = Layout(windows=True)


# --- the registry -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One network kind.

    Attributes
    ----------
    arch : type
        The dataclass of its architecture fields (each with a default); it makes the kind's :class:`NetInputs`.
    layout : Layout
        How its beats are batched.
    inputs : callable
        ``(rr, NetInputs) -> array``: one recording's inputs.
    n_inputs : callable
        ``NetInputs -> int``: input channels (features) per beat.
    build : callable
        ``(arch, n_inputs) -> nn.Module``: the untrained network (imports torch).
    padding : float
        The input value of the padding of crop batches: what a missing beat is in its inputs.
    augment : bool
        Whether training may rescale crops (``augment_scale``): only relative-RR channels scale with spike size.
    reads_features : bool
        Whether it reads the feature matrix of :mod:`cardiospike.features` (its inputs then record a FeatureSpec).
    """

    arch: type[Any]
    layout: Layout
    inputs: Callable[[NDArray[np.floating], NetInputs], Float32Array]
    n_inputs: Callable[[NetInputs], int]
    build: Callable[[Any, int], nn.Module]
    padding: float = 0.0
    augment: bool = False
    reads_features: bool = False


def _arguments(arch: Any, *leave_out: str) -> dict[str, Any]:
    """An architecture's fields as its network's constructor arguments (the fields are named after them)."""
    return {key: value for key, value in asdict(arch).items() if key not in leave_out}


def _build_sequence(arch: SequenceArch, n_inputs: int) -> nn.Module:
    from cardiospike.models.nn.net import SequenceNet

    return SequenceNet(in_channels=n_inputs, **_arguments(arch))


def _build_cardionet(arch: CardioNetArch, n_inputs: int) -> nn.Module:
    from cardiospike.models.nn.net import CardioNet

    return CardioNet(in_channels=n_inputs, window=2 * arch.half_window + 1, **_arguments(arch, "half_window"))


def _build_features(arch: FeatureArch, n_inputs: int) -> nn.Module:
    from cardiospike.models.nn.net import FeatureNet

    return FeatureNet(in_features=n_inputs, **_arguments(arch, "features"))


def _features_of(inputs: NetInputs) -> FeatureSpec:
    if inputs.features is None:
        raise ValueError(f"{inputs.kind} network inputs need a feature set")
    return inputs.features


KINDS: dict[str, Kind] = {
    "sequence": Kind(
        arch=SequenceArch,
        layout=CROPS,
        inputs=lambda rr, spec: sequence_inputs(rr, spec.rr_min, spec.rr_max),
        n_inputs=lambda spec: len(SEQUENCE_CHANNELS),
        build=_build_sequence,
        augment=True,
    ),
    "cardionet": Kind(
        arch=CardioNetArch,
        layout=WINDOWS,
        inputs=lambda rr, spec: window_inputs(rr, spec.half_window, spec.rr_min, spec.rr_max),
        n_inputs=lambda spec: len(WINDOW_CHANNELS),
        build=_build_cardionet,
    ),
    "features": Kind(
        arch=FeatureArch,
        layout=CROPS,
        inputs=lambda rr, spec: feature_inputs(rr, _features_of(spec)),
        n_inputs=lambda spec: len(feature_names(_features_of(spec))),
        build=_build_features,
        padding=np.nan,  # the feature network's inputs are NaN where a value is missing
        reads_features=True,
    ),
}


def network_kind(name: str) -> Kind:
    """The kind called ``name``; ValueError naming the known ones otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown network kind {name!r}: expected one of {', '.join(map(repr, KINDS))}") from None


def arch_from_dict(name: str, data: dict[str, Any]) -> Any:
    """The architecture of kind ``name`` from its fields (lists as tuples)."""
    return network_kind(name).arch(**_tuples(data))
