"""The search configuration (``conf/search.yaml``), composed with Hydra, and what it builds."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import optuna
from hydra.errors import HydraException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from cardiospike.errors import first_line
from cardiospike.features import FeatureSpec
from cardiospike.search.objective import Objective
from cardiospike.search.sampling import make_sampler
from cardiospike.search.space import check_space
from cardiospike.search.storage import Heartbeat
from cardiospike.training.config import ConfigError, compose_config, model_params, to_container
from cardiospike.training.learners import LEARNERS, TrainingData
from cardiospike.training.run import load_recordings

CONFIG_NAME = "search"


def search_config(overrides: Sequence[str] = (), *, study: str | None = None, storage: str | None = None) -> DictConfig:
    """The resolved search configuration with Hydra ``overrides`` (``key=value``, ``group=option``) applied.

    ``study`` and ``storage``, where given, replace the configuration's as they are: never parsed as overrides,
    since a storage URL (its password) may hold any character.
    """
    cfg = compose_config(overrides, name=CONFIG_NAME)
    if study is not None:
        cfg.study = study
    if storage is not None:
        cfg.storage = storage
    try:
        check_space(to_container(cfg.search_space.params))
        model = cfg.search_space.model
        if model not in LEARNERS:
            raise ValueError(f"unknown model {model!r} in the search space: have {', '.join(LEARNERS)}")
        if model not in cfg.model or not cfg.model[model].get("enabled", True):
            raise ValueError(f"the search space samples {model!r} but model/{model} is not configured")
        if int(cfg.n_trials) < 1:
            raise ValueError("n_trials must be at least 1")
        if not 0 < int(cfg.heartbeat.interval) < int(cfg.heartbeat.grace_period):
            raise ValueError("heartbeat: need 0 < interval < grace_period")
    except (ValueError, TypeError, OmegaConfBaseException) as exc:
        raise ConfigError(f"invalid configuration: {first_line(exc)}") from None
    return cfg


def to_yaml(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg)


def heartbeat(cfg: DictConfig) -> Heartbeat:
    hb = cfg.heartbeat
    return Heartbeat(interval=int(hb.interval), grace_period=int(hb.grace_period), max_retry=hb.max_retry)


def sampler(cfg: DictConfig) -> optuna.samplers.BaseSampler:
    s = cfg.sampler
    seed = None if s.seed is None else int(s.seed)
    return make_sampler(seed, int(s.n_startup_trials), bool(s.multivariate), bool(s.constant_liar))


def pruner(cfg: DictConfig) -> optuna.pruners.BasePruner:
    """The pruner the ``pruner`` group names (its ``_target_`` class with the other keys as arguments)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # WilcoxonPruner's
            built = instantiate(cfg.pruner)
    except (HydraException, OmegaConfBaseException, TypeError) as exc:
        raise ConfigError(f"invalid pruner: {first_line(exc)}") from None
    if not isinstance(built, optuna.pruners.BasePruner):
        raise ConfigError(f"pruner._target_ {cfg.pruner._target_!r} is not an Optuna pruner")
    return built


def base_params(cfg: DictConfig) -> dict[str, Any]:
    """The model's parameters that are not sampled: the training defaults, the worker's threads, the run's seed."""
    params = model_params(cfg, str(cfg.search_space.model), int(cfg.threads))
    assert params is not None, "search_config checks that the searched model is configured"
    return params


def objective(cfg: DictConfig) -> Objective:
    """The objective over the data the configuration names (loaded and featurised once per worker)."""
    recordings = load_recordings(to_container(cfg.data))
    data = TrainingData.build(recordings, FeatureSpec.from_dict(to_container(cfg.features)))
    return Objective(
        data=data,
        n_folds=int(cfg.cv.folds),
        seed=int(cfg.cv.seed),
        base_params=base_params(cfg),
        space=to_container(cfg.search_space.params),
        model=str(cfg.search_space.model),
    )
