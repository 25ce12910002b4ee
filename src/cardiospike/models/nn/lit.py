"""Training of the networks with Lightning: masked BCE-with-logits, AdamW, early stopping on a validation metric.

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
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from lightning.pytorch import LightningModule, Trainer, seed_everything
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import TensorBoardLogger
from sklearn.metrics import average_precision_score
from torch import Tensor, nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler

from cardiospike.arrays import sigmoid
from cardiospike.models.nn.config import NetConfig
from cardiospike.models.nn.data import Batch, CropBatches, WindowBeats, window_batches
from cardiospike.models.nn.windows import cut
from cardiospike.recording import Recording

#: Validation metrics early stopping can watch, with the direction that is better.
MONITORS = {"loss": ("val_loss", "min"), "ap": ("val_ap", "max")}


def build_network(config: NetConfig) -> nn.Module:
    """The untrained network that ``config`` describes."""
    network = config.network
    return network.build(config.arch, network.n_inputs(config.inputs()))


@runtime_checkable
class ScalesInputs(Protocol):
    """A network that standardises its inputs itself, by statistics of the training data set before it trains."""

    def set_scaling(self, mean: Tensor, std: Tensor) -> None: ...


class BeatNetModule(LightningModule):
    """A network and its training: masked BCE-with-logits loss, AdamW; validation loss and average precision."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.net = build_network(config)
        self.best_epoch_: int | None = None
        self._valid: list[tuple[Tensor, Tensor]] = []

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.net(x)
        return out

    @staticmethod
    def _loss(logits: Tensor, y: Tensor, w: Tensor) -> Tensor:
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
        return (loss * w).sum() / w.sum().clamp_min(1.0)

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        x, y, w = batch
        loss = self._loss(self(x), y, w)
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=int(w.sum()))
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        x, y, w = batch
        logits = self(x)
        # Weighted by real beats, so the epoch's value is the per-beat loss over the validation recordings.
        self.log("val_loss", self._loss(logits, y, w), on_step=False, on_epoch=True, batch_size=int(w.sum()))
        real = w > 0
        self._valid.append((logits[real], y[real]))

    def on_validation_epoch_end(self) -> None:
        scores, labels = (torch.cat(parts).numpy() for parts in zip(*self._valid, strict=True))
        self._valid.clear()
        # Average precision ranks beats across all validation recordings, as one threshold will.
        ap = float(average_precision_score(labels, scores)) if labels.any() else 0.0
        self.log("val_ap", ap)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(self.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)


class KeepBestWeights(Callback):
    """Keep, in memory, the weights of the epoch with the best validation metric and restore them at the end.

    Lightning's early stopping stops but keeps the last weights; a checkpoint file would restore the best ones,
    but training inside nested CV should not write files. It looks at the metric when validation ends, as early
    stopping does: the average precision is logged by the module's own epoch-end hook, which runs after the
    callbacks' epoch-end hooks.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "min") -> None:
        self.monitor, self.sign = monitor, 1.0 if mode == "min" else -1.0
        self.best = float("inf")
        self.best_state: dict[str, Tensor] | None = None
        self.best_epoch = 0

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.monitor)
        if value is not None and self.sign * float(value) < self.best:
            self.best = self.sign * float(value)
            self.best_state = copy.deepcopy(pl_module.state_dict())
            self.best_epoch = trainer.current_epoch + 1

    def on_fit_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self.best_state is not None:
            pl_module.load_state_dict(self.best_state)


def _loaders(
    train_recs: Sequence[Recording], valid_recs: Sequence[Recording], config: NetConfig
) -> tuple[DataLoader[Any], DataLoader[Any] | None]:
    """Training and validation batches in the layout of the network's kind."""
    network, inputs = config.network, config.inputs()
    valid: DataLoader[Any] | None = None
    if not network.layout.windows:
        crops = CropBatches(
            train_recs,
            inputs,
            config.crop_len,
            config.batch_size,
            config.epoch_beats,
            config.seed,
            augment_scale=config.augment_scale if network.augment else 0.0,
            fill=network.padding,
            joined_share=config.joined_share,
        )
        train = DataLoader(crops, batch_size=None)
        windowing = config.windowing()
        if valid_recs and windowing is not None:  # always, for a kind that reads crops
            batches: Any = window_batches(valid_recs, inputs, windowing, network.padding, 4 * config.batch_size)
            valid = DataLoader(batches, batch_size=None)
        return train, valid
    beats = WindowBeats(train_recs, inputs)
    generator = torch.Generator().manual_seed(config.seed)
    # Batches of indices, gathered by one tensor index each: far faster than collating single windows.
    sampler = BatchSampler(RandomSampler(beats, generator=generator), config.batch_size, drop_last=False)
    train = DataLoader(beats, sampler=sampler, batch_size=None)
    if valid_recs:
        vbeats = WindowBeats(valid_recs, inputs)
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
    torch.set_num_threads(config.n_jobs)
    seed_everything(config.seed, verbose=False)
    module = BeatNetModule(config)
    train, valid = _loaders(train_recs, valid_recs, config)
    if isinstance(module.net, ScalesInputs):
        assert isinstance(train.dataset, CropBatches), "input scaling is learnt from whole-recording crops"
        module.net.set_scaling(*_feature_scaling(train.dataset.inputs))  # the training crops' own matrices
    callbacks: list[Callback] = []
    metric, mode = MONITORS[config.monitor]
    best = KeepBestWeights(metric, mode)
    if valid is not None:
        callbacks += [EarlyStopping(monitor=metric, patience=config.patience, mode=mode), best]
    if config.enable_checkpointing:
        # The best epoch by the validation metric where there is validation, and the last epoch always (to resume).
        monitor = metric if valid is not None else None
        callbacks.append(ModelCheckpoint(dirpath=config.checkpoint_dir, monitor=monitor, mode=mode, save_last=True))
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


def _feature_scaling(inputs: Sequence[np.ndarray]) -> tuple[Tensor, Tensor]:
    """Mean and standard deviation of each feature (row) over the beats of (n_features, n) matrices, NaN ignored."""
    x = np.concatenate(inputs, axis=1).astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature missing everywhere: mean and std of nothing
        mean, std = np.nanmean(x, axis=1), np.nanstd(x, axis=1)
    mean = np.nan_to_num(mean)
    std = np.where(np.isfinite(std) & (std > 1e-6), std, 1.0)
    return torch.from_numpy(mean.astype(np.float32)), torch.from_numpy(std.astype(np.float32))


@torch.no_grad()
def predict_network(module: BeatNetModule, recs: Sequence[Recording]) -> list[np.ndarray]:
    """Per-beat anomaly probabilities (float64) of each recording: on the windows of a whole-recording kind (all
    recordings' windows in batches), or each recording's own windows of beats for a window kind."""
    module.eval()
    config = module.config
    inputs, layout, windowing = config.inputs(), config.network.layout, config.windowing()
    if windowing is None:
        out = []
        for rec in recs:
            logits = layout.unbatch(module(layout.batch(torch.from_numpy(inputs(rec.rr)))))
            out.append(torch.sigmoid(logits).double().numpy())
        return out
    windows = cut([len(rec) for rec in recs], windowing)

    def forward(batch: np.ndarray) -> np.ndarray:
        return module(torch.from_numpy(batch)).numpy()

    logits = windows.run(forward, [inputs(rec.rr) for rec in recs], config.network.padding, 256)
    return np.split(sigmoid(logits), np.cumsum([len(rec) for rec in recs])[:-1])
