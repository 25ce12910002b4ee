"""Nested, recording-grouped cross-validation and the fit of the final model.

Inner folds choose what is learned from validation data: each base model's rounds (LightGBM trees, network
epochs) by early stopping, the stacking logistic regression over their out-of-fold probabilities, and the
post-processing (smoothing, decision threshold, gap filling, minimum run length) on the pooled inner out-of-fold
predictions. The outer folds, never used for a choice, give the honest estimate of how the whole procedure does on
patients it has not seen, for the stacked model and for each base model alone; and, in the views of
:mod:`~cardiospike.training.views`, how it does on the same recordings laid end to end and cut into pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cardiospike.artifact import Artifact, build_manifest
from cardiospike.data.splits import Fold, group_folds, nested_group_folds
from cardiospike.ensemble import Stacker, fit_stacker
from cardiospike.features import FeatureSpec
from cardiospike.models.forest import Forest
from cardiospike.models.postprocess import PostProcess, choose_postprocess, run_lengths
from cardiospike.recording import FloatArray, Recording
from cardiospike.training.evaluate import beat_metrics, episode_metrics, recording_f1, recording_summary
from cardiospike.training.learners import Learner, Outputs, TrainingData, build_learners, fit_fold, fold_rows
from cardiospike.training.views import LONG_BEATS, cut_into_pieces, laid_end_to_end

ProgressStep = Callable[[str], None]


@dataclass(frozen=True)
class CVConfig:
    """Fold counts, the seed of the recording shuffle, and the least length of the long view of each outer fold
    (:func:`~cardiospike.training.views.laid_end_to_end`; 0: no views are scored, for a quicker run)."""

    outer: int = 5
    inner: int = 5
    seed: int = 42
    long_beats: int = LONG_BEATS

    @property
    def protocol(self) -> str:
        """The protocol in words, as reports state it."""
        return (
            f"nested cross-validation grouped by recording: {self.outer} outer x {self.inner} inner folds, seed "
            f"{self.seed}; inner folds choose rounds, stacking, threshold and post-processing"
        )


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run is made of; a second base model (the network, ``nn``) adds the stacker."""

    cv: CVConfig = field(default_factory=CVConfig)
    features: FeatureSpec = field(default_factory=FeatureSpec)
    #: Parameters of each base model by its name in :data:`~cardiospike.training.learners.LEARNERS`.
    models: dict[str, dict[str, Any]] = field(default_factory=lambda: {"lgbm": {}})
    #: Inverse regularisation strength of the stacking logistic regression.
    stack_c: float = 1.0
    #: Folder or fsspec URL for the network's Lightning checkpoints and TensorBoard logs (None: not written).
    checkpoints_dir: str | None = None
    logs_dir: str | None = None

    def learners(self) -> list[Learner]:
        return build_learners(self.models, Outputs(checkpoints=self.checkpoints_dir, logs=self.logs_dir))


@dataclass(frozen=True)
class Tuning:
    """What the inner folds chose."""

    rounds: dict[str, int]
    stacker: Stacker | None
    postprocess: PostProcess
    base_postprocess: dict[str, PostProcess]


@dataclass
class Fitted:
    """Base models fitted with their chosen rounds, and how their probabilities become flags."""

    learners: list[Learner]
    models: dict[str, Any]
    tuning: Tuning

    def predict(self, data: TrainingData, rows: np.ndarray) -> tuple[FloatArray, FloatArray]:
        """(final probability, base probabilities (n_rows, n_models)) of ``rows`` (sorted, whole recordings)."""
        base = np.column_stack([lr.predict(self.models[lr.name], data, rows) for lr in self.learners])
        stacker = self.tuning.stacker
        return (base[:, 0] if stacker is None else stacker.anomaly_proba(base)), base

    def flag(self, recordings: Sequence[Recording], features: FeatureSpec) -> tuple[np.ndarray, FloatArray, np.ndarray]:
        """(labels, smoothed final probabilities, flags) of every beat of other labelled recordings, in order."""
        data = TrainingData.build(recordings, features)
        final, _ = self.predict(data, np.arange(len(data.y)))
        return (data.y, *apply_postprocess(self.tuning.postprocess, final, data.ids))


@dataclass
class TrainResult:
    """The final base models, the stacker and post-processing, and the nested CV's predictions and report."""

    fitted: Fitted
    outer: OuterPredictions
    report: dict[str, Any]

    @property
    def postprocess(self) -> PostProcess:
        return self.fitted.tuning.postprocess

    def artifact(self, features: FeatureSpec, training: dict[str, Any]) -> Artifact:
        """The model artifact: LightGBM text, the network as ONNX, the stacker and post-processing as JSON."""
        tuning, models = self.fitted.tuning, self.fitted.models
        network = None
        if "nn" in models:
            from cardiospike.models.nn.export import onnx_bytes  # torch only where a network was trained

            network = onnx_bytes(models["nn"])
        manifest = build_manifest(
            features=features,
            postprocess=tuning.postprocess,
            training={**training, "rounds": tuning.rounds},
            cv=self.report,
            stacker=tuning.stacker,
        )
        forest = Forest(models["lgbm"].to_text())
        return Artifact(forest, features, tuning.postprocess, manifest, network=network, stacker=tuning.stacker)


def no_progress(_: str) -> None:
    """A ``step`` callback that reports nothing."""


def tune(
    data: TrainingData,
    folds: Sequence[Fold],
    learners: Sequence[Learner],
    step: ProgressStep = no_progress,
    stack_c: float = 1.0,
) -> Tuning:
    """Choose rounds (mean early-stopping round), stacker and post-processing on the out-of-fold predictions."""
    oof = np.full((len(data.y), len(learners)), np.nan)
    rounds: dict[str, list[int]] = {lr.name: [] for lr in learners}
    for k, fold in enumerate(folds):
        for j, learner in enumerate(learners):
            test, proba, used = fit_fold(learner, data, fold)
            oof[test, j] = proba
            rounds[learner.name].append(used)
        step(f"inner fold {k + 1}/{len(folds)}")
    # Rows in their original order keep each recording's beats together, as post-processing needs.
    rows = fold_rows(folds)
    y, lengths, names = data.y[rows], run_lengths(data.ids[rows]), [lr.name for lr in learners]
    base_post = {name: choose_postprocess(y, oof[rows, j], lengths)[0] for j, name in enumerate(names)}
    stacker = fit_stacker(oof[rows], y, names, C=stack_c) if len(learners) > 1 else None
    post = (
        base_post[names[0]] if stacker is None else choose_postprocess(y, stacker.anomaly_proba(oof[rows]), lengths)[0]
    )
    return Tuning(
        rounds={name: max(1, round(float(np.mean(r)))) for name, r in rounds.items()},
        stacker=stacker,
        postprocess=post,
        base_postprocess=base_post,
    )


def fit_tuned(data: TrainingData, train: np.ndarray, learners: Sequence[Learner], tuning: Tuning) -> Fitted:
    """Fit every base model on ``train`` with its chosen rounds (no early stopping: nothing is held out)."""
    train = np.sort(train)
    models = {lr.name: lr.fit(data, train, None, tuning.rounds[lr.name])[0] for lr in learners}
    return Fitted(learners=list(learners), models=models, tuning=tuning)


def apply_postprocess(postprocess: PostProcess, proba: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed probabilities and flags of stacked recordings (rows grouped by recording)."""
    lengths = run_lengths(ids)
    smoothed = postprocess.proba(proba, lengths)
    return smoothed, postprocess.flags(smoothed, lengths)


@dataclass(frozen=True)
class ViewPredictions:
    """Labels, smoothed probabilities and flags of the beats of one view (:mod:`~cardiospike.training.views`) of
    every outer fold, each predicted by the model that never saw its fold, folds one after another."""

    y: np.ndarray
    proba: np.ndarray
    flags: np.ndarray
    fold: np.ndarray

    @classmethod
    def join(cls, parts: Sequence[tuple[np.ndarray, FloatArray, np.ndarray]]) -> ViewPredictions:
        """The views of the outer folds, in fold order."""
        y, proba, flags = (np.concatenate([p[i] for p in parts]) for i in range(3))
        return cls(y, proba, flags, np.concatenate([np.full(p[0].size, k, np.int64) for k, p in enumerate(parts)]))

    def report(self) -> dict[str, Any]:
        """Pooled per-beat metrics, and F1 per outer fold."""
        folds = [beat_metrics(self.y[self.fold == k], self.flags[self.fold == k])["f1"] for k in np.unique(self.fold)]
        return beat_metrics(self.y, self.flags, self.proba) | {"f1_per_fold": folds}


def fold_views(
    fitted: Fitted, recordings: Sequence[Recording], features: FeatureSpec, seed: int, long_beats: int = LONG_BEATS
) -> dict[str, tuple[np.ndarray, FloatArray, np.ndarray]]:
    """The held-out ``recordings`` laid end to end (``long_beats`` at least) and cut into pieces, flagged by
    ``fitted``; none where ``long_beats`` is 0."""
    if long_beats <= 0:
        return {}
    rng = np.random.default_rng(seed)
    return {
        "long": fitted.flag([laid_end_to_end(recordings, rng, long_beats)], features),
        "pieces": fitted.flag(cut_into_pieces(recordings, rng), features),
    }


@dataclass(frozen=True)
class OuterPredictions:
    """What nested CV predicted for every beat from the outer fold that held it out: the stack's smoothed
    probabilities and flags, and each base model's alone (each with its own inner-chosen post-processing); and
    the stack's on the other views of the folds' recordings (``views``: "long", "pieces")."""

    ids: np.ndarray
    y: np.ndarray
    fold: np.ndarray
    proba: np.ndarray
    flags: np.ndarray
    names: list[str]
    base_proba: np.ndarray
    base_flags: np.ndarray
    folds: list[dict[str, Any]]
    views: dict[str, ViewPredictions] = field(default_factory=dict)

    def save(self, path: str | Path) -> None:
        """Write the arrays to a ``.npz`` file (no pickle: ids as text), to compare runs beat by beat later; a
        view's arrays are ``<view>_y``, ``<view>_proba``, ``<view>_flags`` and ``<view>_fold``."""
        arrays = {k: getattr(self, k) for k in ("y", "fold", "proba", "flags", "base_proba", "base_flags")}
        for name, view in self.views.items():
            arrays |= {f"{name}_{k}": getattr(view, k) for k in ("y", "proba", "flags", "fold")}
        np.savez_compressed(path, ids=self.ids.astype(str), names=np.array(self.names, dtype=str), **arrays)

    def report(self, protocol: str) -> dict[str, Any]:
        """Pooled outer metrics, per-fold F1, episodes, per-recording F1, and each base model alone; ``protocol``
        says in words how the folds were made."""
        y = self.y.astype(bool)
        models = " + ".join(self.names) + (" stacked by logistic regression" if len(self.names) > 1 else "")
        return {
            "protocol": protocol,
            "models": models,
            "outer": beat_metrics(y, self.flags, self.proba),
            "base_models": {
                name: beat_metrics(y, self.base_flags[:, j], self.base_proba[:, j]) for j, name in enumerate(self.names)
            },
            "folds": self.folds,
            "f1_per_fold": [f["f1"] for f in self.folds],
            "episodes": episode_metrics(self.ids, y, self.flags),
            "per_recording_f1": recording_summary(recording_f1(self.ids, y, self.flags)),
            "views": {name: view.report() for name, view in self.views.items()},
        }


def outer_predictions(data: TrainingData, config: TrainConfig, step: ProgressStep = no_progress) -> OuterPredictions:
    """Run nested CV: each outer fold's beats predicted by the procedure tuned and fitted on the other folds."""
    learners = config.learners()
    names = [lr.name for lr in learners]
    n = len(data.y)
    proba, pred, fold = np.empty(n), np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int64)
    base_proba, base_pred = np.empty((n, len(learners))), np.zeros((n, len(learners)), dtype=bool)
    folds = []
    views: dict[str, list[tuple[np.ndarray, FloatArray, np.ndarray]]] = {}
    for k, outer in enumerate(nested_group_folds(data.ids, config.cv.outer, config.cv.inner, config.cv.seed)):
        tuning = tune(data, outer.inner, learners, step, config.stack_c)
        fitted = fit_tuned(data, outer.train, learners, tuning)
        test = np.sort(outer.test)
        fold[test] = k
        final, base = fitted.predict(data, test)
        proba[test], pred[test] = apply_postprocess(tuning.postprocess, final, data.ids[test])
        for j, name in enumerate(names):
            base_proba[test, j], base_pred[test, j] = apply_postprocess(
                tuning.base_postprocess[name], base[:, j], data.ids[test]
            )
        folds.append(
            {
                "fold": k,
                "n_recordings": len(np.unique(data.ids[test])),
                "rounds": tuning.rounds,
                "n_estimators": tuning.rounds["lgbm"],
                **beat_metrics(data.y[test], pred[test], proba[test]),
                "threshold": tuning.postprocess.threshold,
                "postprocess": tuning.postprocess.to_dict(),
                "stacker": None if tuning.stacker is None else tuning.stacker.to_dict(),
                "base_f1": {name: beat_metrics(data.y[test], base_pred[test, j])["f1"] for j, name in enumerate(names)},
            }
        )
        held_out = data.recordings_at(test)
        for name, view in fold_views(
            fitted, held_out, config.features, config.cv.seed + k, config.cv.long_beats
        ).items():
            views.setdefault(name, []).append(view)
        step(f"outer fold {k + 1}/{config.cv.outer}")
    return OuterPredictions(
        data.ids,
        data.y,
        fold,
        proba,
        pred,
        names,
        base_proba,
        base_pred,
        folds,
        {name: ViewPredictions.join(parts) for name, parts in views.items()},
    )


def train(recordings: Sequence[Recording], config: TrainConfig, step: ProgressStep = no_progress) -> TrainResult:
    """Nested CV for the estimate, then the final models tuned on inner folds of all recordings and fit on all."""
    data = TrainingData.build(recordings, config.features)
    outer = outer_predictions(data, config, step)
    learners = config.learners()
    tuning = tune(data, group_folds(data.ids, config.cv.inner, config.cv.seed), learners, step, config.stack_c)
    fitted = fit_tuned(data, np.arange(len(data.y)), learners, tuning)
    step("final model")
    return TrainResult(fitted=fitted, outer=outer, report=outer.report(config.cv.protocol))


def count_steps(config: CVConfig) -> int:
    """Number of ``step`` calls a :func:`train` run makes (for progress bars)."""
    return config.outer * (config.inner + 1) + config.inner + 1
