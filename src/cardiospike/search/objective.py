"""The search objective: recording-grouped cross-validated per-beat F1, reported fold by fold for pruning.

Every trial uses the same folds. After each fold the trial reports that fold's F1 at the fixed threshold 0.5 (step
= fold index), which a pruner compares with other trials' scores on the same fold. A trial that runs all its folds
is worth the F1 of its pooled out-of-fold probabilities after the post-processing (smoothing, threshold, gap
filling, minimum run) that maximises it, chosen as ``cardiospike train`` chooses it on inner folds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from cardiospike.data import Fold, group_folds
from cardiospike.models.postprocess import PostProcess, choose_postprocess, run_lengths
from cardiospike.search.space import suggest
from cardiospike.training.cv import apply_postprocess
from cardiospike.training.evaluate import beat_metrics
from cardiospike.training.learners import TrainingData, build_learners, fit_fold, fold_rows

#: Threshold of the per-fold scores reported to the pruner (the chosen threshold is known only after all folds).
REPORT_THRESHOLD = 0.5


@dataclass(frozen=True)
class CVScore:
    """A trial's score: pooled F1 after post-processing, per-fold F1 with that post-processing, and the rest."""

    f1: float
    fold_f1: list[float]
    postprocess: PostProcess
    fold_info: list[dict[str, Any]]


def fold_f1(data: TrainingData, rows: np.ndarray, proba: np.ndarray, postprocess: PostProcess) -> float:
    """Per-beat F1 of ``proba`` on ``rows`` (sorted, so each recording's beats stay together) after post-processing."""
    _, flags = apply_postprocess(postprocess, proba, data.ids[rows])
    return float(beat_metrics(data.y[rows], flags)["f1"])


def cross_validate(
    data: TrainingData,
    folds: Sequence[Fold],
    params: Mapping[str, Any],
    model: str = "lgbm",
    report: Callable[[int, float], None] = lambda step, value: None,
) -> CVScore:
    """Run every fold, calling ``report(fold index, F1 at 0.5)`` after each (it may raise to stop early).

    Each fold fits the model on its training rows with early stopping on its test rows, as the inner folds of
    ``cardiospike train`` do.
    """
    (learner,) = build_learners({model: params})
    oof = np.full(len(data.y), np.nan)
    infos = []
    for k, fold in enumerate(folds):
        test, proba, rounds = fit_fold(learner, data, fold)
        oof[test] = proba
        infos.append({"rounds": rounds})
        report(k, fold_f1(data, test, oof[test], PostProcess(threshold=REPORT_THRESHOLD)))
    rows = fold_rows(folds)
    postprocess, f1 = choose_postprocess(data.y[rows], oof[rows], run_lengths(data.ids[rows]))
    per_fold = [fold_f1(data, np.sort(f.test), oof[np.sort(f.test)], postprocess) for f in folds]
    return CVScore(f1=f1, fold_f1=per_fold, postprocess=postprocess, fold_info=infos)


def reporter(trial: optuna.Trial) -> Callable[[int, float], None]:
    """Report a fold's score to the trial, and stop the trial where its pruner says so."""

    def report(step: int, value: float) -> None:
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after fold {step + 1} (F1 at {REPORT_THRESHOLD}: {value:.4f})")

    return report


@dataclass(frozen=True)
class Objective:
    """The function each trial runs: sample parameters, cross-validate, record the details as user attributes.

    Parameters
    ----------
    data : BeatData
        The beats, loaded once per worker.
    n_folds, seed : int
        Folds grouped by recording, the same in every trial and on every worker.
    base_params : mapping
        Model parameters the space does not sample (e.g. ``n_estimators``, ``n_jobs``).
    space : mapping
        ``{name: spec}`` of :func:`cardiospike.search.space.suggest`.
    model : str
        Key of :data:`cardiospike.training.learners.LEARNERS`: the base model the space tunes.
    """

    data: TrainingData
    n_folds: int
    seed: int
    base_params: Mapping[str, Any]
    space: Mapping[str, Mapping[str, Any]]
    model: str = "lgbm"

    def folds(self) -> list[Fold]:
        return group_folds(self.data.ids, self.n_folds, self.seed)

    def __call__(self, trial: optuna.Trial) -> float:
        start = time.perf_counter()
        params = {**self.base_params, **suggest(trial, self.space)}
        score = cross_validate(self.data, self.folds(), params, self.model, reporter(trial))
        trial.set_user_attr("model", self.model)
        trial.set_user_attr("fold_f1", score.fold_f1)
        trial.set_user_attr("postprocess", score.postprocess.to_dict())
        trial.set_user_attr("fold_info", score.fold_info)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 3))
        return score.f1
