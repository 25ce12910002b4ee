"""The configuration of one network: its kind, that kind's architecture, and how it trains. Torch-free.

In configuration files (``conf/model/nn/*.yaml``) and manifests a network's settings are one flat mapping: ``kind``,
its architecture's fields and the training fields. :meth:`NetConfig.from_dict` sorts them: the kind's own fields
go to its architecture (:mod:`cardiospike.models.nn.kinds`), and fields of the other kinds are left aside, so
that one override (the ``debug`` config, a search space) can shrink whichever network is configured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from cardiospike.models.nn.kinds import KINDS, Kind, NetInputs, arch_from_dict, network_kind
from cardiospike.models.nn.windows import Windowing


@dataclass(frozen=True)
class NetConfig:
    """A network's kind and architecture (``arch``, the kind's dataclass; its defaults where None) and training.

    ``crop_len`` is the length of the training crops of whole-recording kinds, and ``batch_size`` counts crops for
    them and windows for window kinds; ``augment_scale`` rescales crops of kinds whose inputs allow it;
    ``joined_share`` is the share of crops cut from the training recordings laid end to end (see
    :class:`~cardiospike.models.nn.data.CropBatches`).
    ``window_context``: a whole-recording kind is validated and scored on windows of ``crop_len`` beats that keep
    all but ``window_context`` beats at each side (see :mod:`~cardiospike.models.nn.windows`), so its output for a
    beat depends only on the beats around it, whatever the recording's length. ``max_epochs`` bounds training;
    with a validation set, training stops after ``patience`` epochs without a better ``monitor`` ("loss":
    validation loss, "ap": validation average precision) and keeps the best epoch's weights. ``n_jobs`` is the
    number of torch threads.
    """

    kind: str = "sequence"
    arch: Any = None
    crop_len: int = 256
    window_context: int = 64
    augment_scale: float = 0.0
    joined_share: float = 0.0
    monitor: Literal["loss", "ap"] = "loss"
    batch_size: int = 16
    epoch_beats: int | None = None
    max_epochs: int = 60
    patience: int = 10
    lr: float = 3e-3
    weight_decay: float = 1e-2
    seed: int = 0
    n_jobs: int = 2
    enable_checkpointing: bool = False
    checkpoint_dir: str | None = None
    logs_dir: str | None = None

    def __post_init__(self) -> None:
        arch_type = network_kind(self.kind).arch
        if self.arch is None:
            object.__setattr__(self, "arch", arch_type())  # frozen: set once, here
        elif not isinstance(self.arch, arch_type):
            raise TypeError(f"a {self.kind} network needs a {arch_type.__name__}, not {type(self.arch).__name__}")

    @property
    def network(self) -> Kind:
        """The registry entry of this network's kind."""
        return KINDS[self.kind]

    def windowing(self) -> Windowing | None:
        """The windows a whole-recording kind is validated and scored on (None: a window kind, whose every beat is
        the centre of a window of its own)."""
        if self.network.layout.windows:
            return None
        return Windowing(self.crop_len, self.window_context)

    def inputs(self) -> NetInputs:
        """How the network's inputs are built from RR."""
        inputs: NetInputs = self.arch.inputs()
        return inputs

    def to_dict(self) -> dict[str, Any]:
        """The flat mapping of configuration files: kind, architecture fields, training fields."""
        training = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("kind", "arch")}
        return {"kind": self.kind, **asdict(self.arch), **training}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetConfig:
        """The configuration of a flat mapping (see the module's docstring); unknown keys are a TypeError."""
        data = dict(data)
        name = data.pop("kind", cls.kind)
        own = {f.name for f in fields(network_kind(name).arch)}
        training = {f.name for f in fields(cls)}
        others = {f.name for k in KINDS.values() for f in fields(k.arch)} - own - training
        arch = arch_from_dict(name, {key: data.pop(key) for key in own & data.keys()})
        return cls(kind=name, arch=arch, **{key: value for key, value in data.items() if key not in others})
