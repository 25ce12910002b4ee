"""Training of the networks with Lightning: masked BCE-with-logits, AdamW, early stopping on validation loss.

``fit_network(train_recs, valid_recs, config)`` returns the trained :class:`BeatNetModule` (best validation weights,
``best_epoch_`` = the epochs they took, for refitting on all data without a validation set);
``predict_network(module, recs)`` gives per-beat probabilities. CPU only, quiet, seeded.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from lightning.pytorch import LightningModule, Trainer, seed_everything
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from torch import Tensor, nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler

from cardiospike.models.nn.data import Batch, CropBatches, RecordingBatches, WindowBeats
from cardiospike.models.nn.inputs import (
    RR_MAX_MS,
    RR_MIN_MS,
    SEQUENCE_CHANNELS,
    WINDOW_CHANNELS,
    sequence_inputs,
    window_inputs,
)
from cardiospike.models.nn.net import CardioNet, SequenceNet
from cardiospike.recording import Recording

NetKind = Literal["sequence", "cardionet"]


@dataclass(frozen=True)
class NetConfig:
    """Architecture and training settings of one network; saved with the model.

    ``kind`` picks :class:`~cardiospike.models.nn.net.SequenceNet` ("sequence") or
    :class:`~cardiospike.models.nn.net.CardioNet` ("cardionet"); the other kind's architecture fields are unused.
    ``batch_size`` counts crops for the sequence net and windows for CardioNet. ``max_epochs`` bounds training;
    with a validation set, training stops after ``patience`` epochs without a lower validation loss and keeps the
    best epoch's weights.
    """

    kind: NetKind = "sequence"
    # SequenceNet
    channels: int = 48
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8)
    gru_hidden: int = 32
    dropout: float = 0.1
    crop_len: int = 256
    augment_scale: float = 0.0
    # CardioNet
    half_window: int = 8
    conv_channels: int = 32
    kernels: tuple[int, ...] = (3, 5, 7, 9)
    mlp_hidden: int = 64
    # Training
    batch_size: int = 16
    epoch_beats: int | None = None
    max_epochs: int = 60
    patience: int = 10
    lr: float = 3e-3
    weight_decay: float = 1e-2
    seed: int = 0
    num_threads: int = 2
    enable_checkpointing: bool = False
    checkpoint_dir: str | None = None
    logs_dir: str | None = None
    rr_min: float = RR_MIN_MS
    rr_max: float = RR_MAX_MS
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetConfig:
        data = dict(data)
        for key in ("dilations", "kernels"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


def build_network(config: NetConfig) -> nn.Module:
    """The untrained network that ``config`` describes."""
    if config.kind == "sequence":
        return SequenceNet(
            in_channels=len(SEQUENCE_CHANNELS),
            channels=config.channels,
            kernel=config.kernel,
            dilations=config.dilations,
            gru_hidden=config.gru_hidden,
            dropout=config.dropout,
        )
    if config.kind == "cardionet":
        return CardioNet(
            in_channels=len(WINDOW_CHANNELS),
            window=2 * config.half_window + 1,
            conv_channels=config.conv_channels,
            kernels=config.kernels,
            gru_hidden=config.gru_hidden,
            mlp_hidden=config.mlp_hidden,
            dropout=config.dropout,
        )
    raise ValueError(f"unknown network kind {config.kind!r}: expected 'sequence' or 'cardionet'")


class BeatNetModule(LightningModule):
    """A network and its training: masked BCE-with-logits loss, AdamW."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.net = build_network(config)
        self.best_epoch_: int | None = None

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.net(x)
        return out

    def _loss(self, batch: Batch) -> Tensor:
        x, y, w = batch
        loss = nn.functional.binary_cross_entropy_with_logits(self(x), y, reduction="none")
        return (loss * w).sum() / w.sum().clamp_min(1.0)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        loss = self._loss(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=int(batch[2].sum()))
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        # Weighted by real beats, so the epoch's value is the per-beat loss over the validation recordings.
        self.log("val_loss", self._loss(batch), on_step=False, on_epoch=True, batch_size=int(batch[2].sum()))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)


class KeepBestWeights(Callback):
    """Keep, in memory, the weights of the epoch with the lowest validation loss and restore them at the end.

    Lightning's early stopping stops but keeps the last weights; a checkpoint file would restore the best ones,
    but training inside nested CV should not write files.
    """

    def __init__(self) -> None:
        self.best_loss = float("inf")
        self.best_state: dict[str, Tensor] | None = None
        self.best_epoch = 0

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        loss = trainer.callback_metrics.get("val_loss")
        if loss is not None and float(loss) < self.best_loss:
            self.best_loss = float(loss)
            self.best_state = copy.deepcopy(pl_module.state_dict())
            self.best_epoch = trainer.current_epoch + 1

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.best_state is not None:
            pl_module.load_state_dict(self.best_state)


def _loaders(
    train_recs: Sequence[Recording], valid_recs: Sequence[Recording], config: NetConfig
) -> tuple[DataLoader[Any], DataLoader[Any] | None]:
    rr = {"rr_min": config.rr_min, "rr_max": config.rr_max}
    valid: DataLoader[Any] | None = None
    if config.kind == "sequence":
        crops = CropBatches(
            train_recs,
            config.crop_len,
            config.batch_size,
            config.epoch_beats,
            config.seed,
            augment_scale=config.augment_scale,
            **rr,
        )
        train = DataLoader(crops, batch_size=None)
        if valid_recs:
            valid = DataLoader(RecordingBatches(valid_recs, config.batch_size, **rr), batch_size=None)
        return train, valid
    beats = WindowBeats(train_recs, config.half_window, **rr)
    generator = torch.Generator().manual_seed(config.seed)
    # Batches of indices, gathered by one tensor index each: far faster than collating single windows.
    sampler = BatchSampler(RandomSampler(beats, generator=generator), config.batch_size, drop_last=False)
    train = DataLoader(beats, sampler=sampler, batch_size=None)
    if valid_recs:
        vbeats = WindowBeats(valid_recs, config.half_window, **rr)
        valid = DataLoader(vbeats, sampler=BatchSampler(range(len(vbeats)), 4096, drop_last=False), batch_size=None)
    return train, valid


@contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Silence Lightning's informational logs and the warnings that do not apply to this use (restored after)."""
    names = ("lightning.pytorch", "lightning.fabric", "pytorch_lightning", "lightning_fabric")
    loggers = [logging.getLogger(name) for name in names]
    levels = [log.level for log in loggers]
    with warnings.catch_warnings():
        # Single-process loading is deliberate (the data is tiny and seeded); Lightning would advise workers.
        warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=r".*IterableDataset.*__len__.*")
        # Lightning 2.6 with torch 2.13 warns about its own use of a deprecated pytree API.
        warnings.filterwarnings("ignore", message=r".*LeafSpec.*is deprecated.*")
        warnings.filterwarnings("ignore", message=r".*no `val_dataloader`.*")  # fixed epochs, on purpose
        for log in loggers:
            log.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for log, level in zip(loggers, levels, strict=True):
                log.setLevel(level)


def fit_network(
    train_recs: Sequence[Recording], valid_recs: Sequence[Recording] | None, config: NetConfig
) -> BeatNetModule:
    """Train a network on ``train_recs``; with ``valid_recs``, stop early on their loss and keep the best weights.

    Without validation recordings it trains exactly ``config.max_epochs`` epochs (e.g. the final model, with the
    epochs chosen in cross-validation). The returned module is in eval mode, with ``best_epoch_`` set.
    """
    valid_recs = list(valid_recs or [])
    torch.set_num_threads(config.num_threads)
    seed_everything(config.seed, verbose=False)
    module = BeatNetModule(config)
    train, valid = _loaders(train_recs, valid_recs, config)
    callbacks: list[Callback] = []
    best = KeepBestWeights()
    if valid is not None:
        callbacks += [EarlyStopping(monitor="val_loss", patience=config.patience, mode="min"), best]
    if config.enable_checkpointing:
        # The best epoch by validation loss where there is validation, and the last epoch always (to resume).
        monitor = "val_loss" if valid is not None else None
        callbacks.append(ModelCheckpoint(dirpath=config.checkpoint_dir, monitor=monitor, mode="min", save_last=True))
    logger: TensorBoardLogger | bool = False
    if config.logs_dir is not None:
        logger = TensorBoardLogger(save_dir=config.logs_dir, name="", version="", default_hp_metric=False)
    with _quiet_lightning():
        trainer = Trainer(
            accelerator="cpu",
            devices=1,
            max_epochs=config.max_epochs,
            callbacks=callbacks,
            logger=logger,
            log_every_n_steps=1,
            enable_checkpointing=config.enable_checkpointing,
            default_root_dir=config.checkpoint_dir,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            deterministic=True,
        )
        trainer.fit(module, train, valid)
    module.best_epoch_ = best.best_epoch if valid is not None else trainer.current_epoch
    return module.eval()


def network_inputs(rr: np.ndarray, config: NetConfig) -> np.ndarray:
    """The input array one recording gives the network of ``config`` (unbatched)."""
    if config.kind == "sequence":
        return sequence_inputs(rr, config.rr_min, config.rr_max)
    return window_inputs(rr, config.half_window, config.rr_min, config.rr_max)


@torch.no_grad()
def predict_network(module: BeatNetModule, recs: Sequence[Recording]) -> list[np.ndarray]:
    """Per-beat anomaly probabilities (float64) of each recording, one recording at a time (no padding)."""
    module.eval()
    out = []
    for rec in recs:
        x = torch.from_numpy(network_inputs(rec.rr, module.config))
        logits = module(x[None])[0] if module.config.kind == "sequence" else module(x)
        out.append(torch.sigmoid(logits).double().numpy())
    return out
