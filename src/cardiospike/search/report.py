"""What a study found: the best parameters as a training config, and the trials by state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import optuna
import yaml
from optuna.trial import FrozenTrial, TrialState

#: Where the training configuration keeps each model's parameters (``conf/config.yaml``: ``model/lgbm``).
MODEL_KEY = "model"


@dataclass(frozen=True)
class Best:
    """The best finished trial of a study and the model it tuned."""

    study: str
    trial: FrozenTrial
    model: str


def best_of(study: optuna.Study) -> Best:
    """The best COMPLETE trial, or ValueError where none has completed."""
    try:
        trial = study.best_trial
    except ValueError:
        raise ValueError(f"study {study.study_name!r} has no completed trial yet") from None
    return Best(study=study.study_name, trial=trial, model=model_of(trial))


def model_of(trial: FrozenTrial) -> str:
    """The model a trial tuned (recorded by the worker; studies before that tuned LightGBM)."""
    return str(trial.user_attrs.get("model", "lgbm"))


def best_config(best: Best) -> dict[str, Any]:
    """The best parameters in the shape of the training configuration: ``{model: {lgbm: {name: value}}}``."""
    return {MODEL_KEY: {best.model: dict(best.trial.params)}}


def overrides(best: Best) -> list[str]:
    """The same as Hydra command-line overrides: ``model.lgbm.learning_rate=0.04 ...``."""
    return [f"{MODEL_KEY}.{best.model}.{name}={value!r}" for name, value in best.trial.params.items()]


def best_yaml(best: Best) -> str:
    """The YAML file ``search best`` writes: a comment saying where it comes from, then :func:`best_config`."""
    t = best.trial
    header = (
        f"# Best parameters of study {best.study!r}: trial {t.number}, cross-validated per-beat F1 {t.value:.4f}.\n"
        f"# Written by `cardiospike search best`. Merge it into the training configuration, or pass it as overrides:\n"
        f"#   cardiospike train {' '.join(overrides(best))}\n"
    )
    return header + yaml.safe_dump(best_config(best), sort_keys=False)


def state_counts(trials: list[FrozenTrial]) -> dict[str, int]:
    """Number of trials in each state, every state listed (zeros included) in Optuna's order."""
    counts = Counter(t.state for t in trials)
    return {state.name: counts[state] for state in TrialState}
