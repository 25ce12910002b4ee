"""Nested, recording-grouped cross-validation and the fit of the final model.

Inner folds choose what is learned from validation data (the number of boosting rounds, by early stopping, and
the post-processing: smoothing, decision threshold, gap filling and minimum run length, on pooled inner
out-of-fold probabilities); the outer folds, never used for a choice, give the honest estimate of how the whole
procedure does on patients it has not seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cardiospike.data.splits import Fold, group_folds, nested_group_folds
from cardiospike.features import FeatureSpec, features_for_recordings
from cardiospike.models.lgbm import LGBMBeatClassifier
from cardiospike.models.postprocess import PostProcess, choose_postprocess, run_lengths
from cardiospike.recording import Recording
from cardiospike.training.evaluate import beat_metrics, recording_f1, recording_summary

Step = Callable[[str], None]


@dataclass(frozen=True)
class CVConfig:
    """Fold counts and the seed of the recording shuffle."""

    outer: int = 5
    inner: int = 5
    seed: int = 42


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run is made of; saved in the artifact's manifest."""

    cv: CVConfig = field(default_factory=CVConfig)
    features: FeatureSpec = field(default_factory=FeatureSpec)
    lgbm: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"cv": asdict(self.cv), "features": self.features.to_dict(), "lgbm": dict(self.lgbm)}


@dataclass(frozen=True)
class Tuning:
    """What the inner folds chose."""

    n_estimators: int
    postprocess: PostProcess


@dataclass
class TrainResult:
    """The final model, its post-processing (threshold included) and the nested-CV report."""

    model: LGBMBeatClassifier
    postprocess: PostProcess
    n_estimators: int
    report: dict[str, Any]


def _noop(_: str) -> None:
    return None


def tune(
    X: np.ndarray, y: np.ndarray, ids: np.ndarray, folds: Sequence[Fold], params: dict[str, Any], step: Step = _noop
) -> Tuning:
    """Choose boosting rounds (mean early-stopping round) and post-processing (best pooled out-of-fold F1)."""
    oof = np.full(len(y), np.nan)
    rounds = []
    for k, fold in enumerate(folds):
        model = LGBMBeatClassifier(**params).fit(X[fold.train], y[fold.train], eval_set=(X[fold.test], y[fold.test]))
        oof[fold.test] = model.predict_proba(X[fold.test])[:, 1]
        rounds.append(model.best_iteration_)
        step(f"inner fold {k + 1}/{len(folds)}")
    # Rows in their original order keep each recording's beats together, as post-processing needs.
    rows = np.sort(np.concatenate([f.test for f in folds]))
    postprocess, _ = choose_postprocess(y[rows], oof[rows], run_lengths(ids[rows]))
    return Tuning(n_estimators=max(1, round(float(np.mean(rounds)))), postprocess=postprocess)


def apply_postprocess(postprocess: PostProcess, proba: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed probabilities and flags of stacked recordings (rows grouped by recording)."""
    lengths = run_lengths(ids)
    smoothed = postprocess.proba(proba, lengths)
    return smoothed, postprocess.flags(smoothed, lengths)


def fit_tuned(X: np.ndarray, y: np.ndarray, params: dict[str, Any], tuning: Tuning) -> LGBMBeatClassifier:
    """Fit on all of ``X`` with the chosen number of rounds (no early stopping: there is nothing held out)."""
    return LGBMBeatClassifier(**{**params, "n_estimators": tuning.n_estimators}).fit(X, y)


def nested_cv(X: np.ndarray, y: np.ndarray, ids: np.ndarray, config: TrainConfig, step: Step = _noop) -> dict[str, Any]:
    """Run nested CV and report pooled outer metrics, per-fold F1 and per-recording F1."""
    proba = np.empty(len(y))
    pred = np.zeros(len(y), dtype=bool)
    folds = []
    for k, outer in enumerate(nested_group_folds(ids, config.cv.outer, config.cv.inner, config.cv.seed)):
        tuning = tune(X, y, ids, outer.inner, config.lgbm, step)
        model = fit_tuned(X[outer.train], y[outer.train], config.lgbm, tuning)
        test = np.sort(outer.test)
        proba[test], pred[test] = apply_postprocess(tuning.postprocess, model.predict_proba(X[test])[:, 1], ids[test])
        metrics = beat_metrics(y[test], pred[test], proba[test])
        folds.append(
            {
                "fold": k,
                "n_recordings": len(np.unique(ids[test])),
                "n_estimators": tuning.n_estimators,
                **metrics,
                "threshold": tuning.postprocess.threshold,
                "postprocess": tuning.postprocess.to_dict(),
            }
        )
        step(f"outer fold {k + 1}/{config.cv.outer}")
    pooled = beat_metrics(y, pred, proba)
    per_recording = recording_f1(ids, y.astype(bool), pred)
    return {
        "protocol": f"nested cross-validation grouped by recording: {config.cv.outer} outer x {config.cv.inner} inner "
        f"folds, seed {config.cv.seed}; inner folds choose boosting rounds, threshold and post-processing",
        "outer": pooled,
        "folds": folds,
        "f1_per_fold": [f["f1"] for f in folds],
        "per_recording_f1": recording_summary(per_recording),
    }


def train(recordings: Sequence[Recording], config: TrainConfig, step: Step = _noop) -> TrainResult:
    """Nested CV for the estimate, then the final model tuned on inner folds of all recordings and fit on all."""
    if any(r.labels is None for r in recordings):
        raise ValueError("training needs labelled recordings (a 'y' column)")
    X = features_for_recordings(recordings, config.features)
    y = np.concatenate([r.labels for r in recordings if r.labels is not None]).astype(np.int8)
    ids = np.repeat([r.id for r in recordings], [len(r) for r in recordings])
    report = nested_cv(X, y, ids, config, step)
    tuning = tune(X, y, ids, group_folds(ids, config.cv.inner, config.cv.seed), config.lgbm, step)
    model = fit_tuned(X, y, config.lgbm, tuning)
    step("final model")
    return TrainResult(model=model, postprocess=tuning.postprocess, n_estimators=tuning.n_estimators, report=report)


def count_steps(config: CVConfig) -> int:
    """Number of ``step`` calls a :func:`train` run makes (for progress bars)."""
    return config.outer * (config.inner + 1) + config.inner + 1
