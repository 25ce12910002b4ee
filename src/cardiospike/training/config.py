"""Training configuration: Hydra configs in ``cardiospike.conf``, composed with command-line overrides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hydra import compose, initialize_config_module
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from cardiospike.errors import first_line
from cardiospike.features import FeatureSpec
from cardiospike.training.cv import CVConfig, TrainConfig

CONFIG_MODULE = "cardiospike.conf"


class ConfigError(ValueError):
    """Overrides that do not make a valid configuration."""


def compose_config(overrides: Sequence[str] = (), name: str = "config") -> DictConfig:
    """The resolved configuration ``name`` of ``cardiospike.conf`` with Hydra ``overrides`` applied."""
    try:
        with initialize_config_module(config_module=CONFIG_MODULE, version_base=None):
            cfg = compose(config_name=name, overrides=list(overrides))
        OmegaConf.resolve(cfg)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"invalid configuration: {first_line(exc)}") from None
    return cfg


def to_container(cfg: DictConfig) -> dict[str, Any]:
    """The configuration as plain JSON-able data (as saved in the artifact)."""
    data = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(data, dict)
    return {str(k): v for k, v in data.items()}


def train_config(cfg: DictConfig) -> TrainConfig:
    """The training run a composed configuration describes."""
    try:
        features = FeatureSpec.from_dict(dict(cfg.features))
        lgbm = {**to_container(cfg.model.lgbm), "n_jobs": int(cfg.trainer.threads), "seed": int(cfg.seed)}
        cv = CVConfig(outer=int(cfg.cv.outer), inner=int(cfg.cv.inner), seed=int(cfg.cv.seed))
        nn_cfg = cfg.model.get("nn")
        nn = None
        if nn_cfg is not None and nn_cfg.get("enabled", True):
            nn = {k: v for k, v in to_container(nn_cfg).items() if k != "enabled"}
            nn.update(num_threads=int(cfg.trainer.threads), seed=int(cfg.seed))
    except (TypeError, ValueError, OmegaConfBaseException) as exc:
        raise ConfigError(f"invalid configuration: {first_line(exc)}") from None
    outputs = [cfg.trainer.get(key) for key in ("checkpoints_dir", "logs_dir")]
    # An empty variable (CHECKPOINTS_DIR= in a .env file) means "none", like an unset one.
    checkpoints_dir, logs_dir = (str(value) if value else None for value in outputs)
    return TrainConfig(
        cv=cv,
        features=features,
        lgbm=lgbm,
        nn=nn,
        stack_c=float(cfg.ensemble.C),
        checkpoints_dir=checkpoints_dir,
        logs_dir=logs_dir,
    )
