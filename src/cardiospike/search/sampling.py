"""Samplers and pruners of a study, from configuration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState


def trial_seed(seed: int, number: int) -> int:
    """A seed for trial ``number`` of a study seeded with ``seed`` (independent streams, not ``seed + number``)."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


class TrialSeededSampler(BaseSampler):
    """Delegates to a fresh sampler per trial, seeded by the study's seed and the trial's number.

    Trial numbers are unique across workers, so parallel workers never draw the same random start-up points
    (with one seed per worker they all would), and a one-worker run with the same seed repeats itself.
    Samplers such as TPE keep no state between trials beyond what the study stores, so a fresh one loses nothing.
    """

    def __init__(self, make: Callable[[int], BaseSampler], seed: int) -> None:
        self._make = make
        self._seed = seed
        self._current = make(seed)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._current = self._make(trial_seed(self._seed, trial.number))
        self._current.before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._current.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._current.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._current.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self._current.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._current.reseed_rng()


def make_sampler(
    seed: int | None, n_startup_trials: int = 10, multivariate: bool = True, constant_liar: bool = True
) -> BaseSampler:
    """TPE with the constant liar (running trials count as bad, so parallel workers spread out)."""

    def tpe(s: int | None) -> BaseSampler:
        return TPESampler(
            seed=s, n_startup_trials=n_startup_trials, multivariate=multivariate, constant_liar=constant_liar
        )

    return tpe(None) if seed is None else TrialSeededSampler(tpe, seed)


def quiet_experimental_warnings() -> None:
    """Multivariate TPE and heartbeats are marked experimental; their warning on every trial is noise."""
    import warnings

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
