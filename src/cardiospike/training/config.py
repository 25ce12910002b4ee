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
from cardiospike.training.learners import LEARNERS, run_params

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


def model_params(cfg: DictConfig, name: str, threads: int) -> dict[str, Any] | None:
    """Base model ``name``'s parameters (``model.<name>``) with the run's threads and seed; None where it is off.

    A model group may switch its model off with ``enabled: false`` (``model/nn=none``).
    """
    section = cfg.model.get(name)
    if section is None or not section.get("enabled", True):
        return None
    params = {k: v for k, v in to_container(section).items() if k != "enabled"}
    return run_params(params, threads, int(cfg.seed))


def train_config(cfg: DictConfig) -> TrainConfig:
    """The training run a composed configuration describes."""
    try:
        features = FeatureSpec.from_dict(dict(cfg.features))
        cv = CVConfig(
            outer=int(cfg.cv.outer), inner=int(cfg.cv.inner), seed=int(cfg.cv.seed), long_beats=int(cfg.cv.long_beats)
        )
        threads = int(cfg.trainer.threads)
        models = {name: params for name in LEARNERS if (params := model_params(cfg, name, threads)) is not None}
        if "lgbm" not in models:
            raise ValueError("model.lgbm is missing: LightGBM is the base model of every run")
    except (TypeError, ValueError, OmegaConfBaseException) as exc:
        raise ConfigError(f"invalid configuration: {first_line(exc)}") from None
    outputs = [cfg.trainer.get(key) for key in ("checkpoints_dir", "logs_dir")]
    # An empty variable (CHECKPOINTS_DIR= in a .env file) means "none", like an unset one.
    checkpoints_dir, logs_dir = (str(value) if value else None for value in outputs)
    return TrainConfig(
        cv=cv,
        features=features,
        models=models,
        stack_c=float(cfg.ensemble.C),
        checkpoints_dir=checkpoints_dir,
        logs_dir=logs_dir,
    )
