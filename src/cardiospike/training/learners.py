"""Base models as the cross-validation engine sees them: fit on some rows, predict others.

Rows index the stacked beats of all recordings; fold rows always hold whole recordings (folds are grouped by
recording), so a learner that needs whole recordings (the network) can take them from the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any, Protocol

import numpy as np

from cardiospike.data.splits import Fold
from cardiospike.features import FeatureSpec, features_for_recordings
from cardiospike.models.lgbm import LGBMBeatClassifier
from cardiospike.recording import FloatArray, Recording
from cardiospike.remote import join, mirrored


@dataclass(frozen=True, eq=False)
class TrainingData:
    """Labelled recordings with their stacked feature matrix, labels and recording id per row."""

    recordings: list[Recording]
    X: np.ndarray
    y: np.ndarray
    ids: np.ndarray
    recording_of_row: np.ndarray

    @classmethod
    def build(cls, recordings: Sequence[Recording], features: FeatureSpec) -> TrainingData:
        if any(r.labels is None for r in recordings):
            raise ValueError("training needs labelled recordings (a 'y' column)")
        lengths = [len(r) for r in recordings]
        return cls(
            recordings=list(recordings),
            X=features_for_recordings(recordings, features),
            y=np.concatenate([r.labels for r in recordings if r.labels is not None]).astype(np.int8),
            ids=np.repeat([r.id for r in recordings], lengths),
            recording_of_row=np.repeat(np.arange(len(recordings)), lengths),
        )

    def recordings_at(self, rows: np.ndarray) -> list[Recording]:
        """The recordings whose beats ``rows`` (sorted, whole recordings) are, in row order."""
        return [self.recordings[i] for i in np.unique(self.recording_of_row[rows])]


class Learner(Protocol):
    """A base model: ``fit`` returns the fitted model and the rounds (trees, epochs) it used."""

    @property
    def name(self) -> str: ...

    def fit(
        self, data: TrainingData, train: np.ndarray, valid: np.ndarray | None = None, rounds: int | None = None
    ) -> tuple[Any, int]: ...

    def predict(self, model: Any, data: TrainingData, rows: np.ndarray) -> FloatArray: ...


def fit_fold(learner: Learner, data: TrainingData, fold: Fold) -> tuple[np.ndarray, FloatArray, int]:
    """Fit on a fold's training rows, stopping early on its test rows.

    Returns the test rows (sorted, so each recording's beats stay together), their out-of-fold probabilities and the
    rounds the early stopping chose.
    """
    train, test = np.sort(fold.train), np.sort(fold.test)
    model, rounds = learner.fit(data, train, test)
    return test, learner.predict(model, data, test), rounds


def fold_rows(folds: Sequence[Fold]) -> np.ndarray:
    """All test rows of ``folds``, sorted: the rows their pooled out-of-fold predictions cover."""
    return np.sort(np.concatenate([f.test for f in folds]))


@dataclass(frozen=True)
class LGBMLearner:
    """The LightGBM beat classifier over the feature matrix; early stopping on ``valid`` picks the trees."""

    params: dict[str, Any]
    name: str = "lgbm"

    def fit(
        self, data: TrainingData, train: np.ndarray, valid: np.ndarray | None = None, rounds: int | None = None
    ) -> tuple[LGBMBeatClassifier, int]:
        params = self.params if rounds is None else {**self.params, "n_estimators": rounds}
        eval_set = None if valid is None else (data.X[valid], data.y[valid])
        model = LGBMBeatClassifier(**params).fit(data.X[train], data.y[train], eval_set=eval_set)
        return model, model.best_iteration_

    def predict(self, model: LGBMBeatClassifier, data: TrainingData, rows: np.ndarray) -> FloatArray:
        return np.asarray(model.predict_proba(data.X[rows])[:, 1], dtype=np.float64)


@dataclass(frozen=True)
class NetLearner:
    """A neural beat labeller (``cardiospike.models.nn``) over whole recordings; early stopping picks the epochs.

    With ``checkpoints`` or ``logs`` (a folder or an fsspec URL such as ``s3://bucket/prefix``), every fit writes
    its Lightning checkpoints or TensorBoard logs under ``<run>/fit-<n>/`` there.
    """

    config: dict[str, Any]
    checkpoints: str | None = None
    logs: str | None = None
    name: str = "nn"
    run: str = field(default_factory=lambda: datetime.now(UTC).strftime("run-%Y%m%dT%H%M%SZ"))
    _fits: Iterator[int] = field(default_factory=count, repr=False, compare=False)

    def fit(
        self, data: TrainingData, train: np.ndarray, valid: np.ndarray | None = None, rounds: int | None = None
    ) -> tuple[Any, int]:
        from cardiospike.models.nn.config import NetConfig
        from cardiospike.models.nn.lit import fit_network  # torch only where a network is trained

        tag = f"fit-{next(self._fits):02d}"
        with ExitStack() as stack:
            outputs = {
                key: stack.enter_context(mirrored(join(url, self.run, tag)))
                for key, url in (("checkpoint_dir", self.checkpoints), ("logs_dir", self.logs))
                if url is not None
            }
            extra = {**outputs, "enable_checkpointing": "checkpoint_dir" in outputs}
            config = NetConfig.from_dict({**self.config, **extra, **({} if rounds is None else {"max_epochs": rounds})})
            valid_recs = None if valid is None else data.recordings_at(valid)
            module = fit_network(data.recordings_at(train), valid_recs, config)
        return module, max(1, module.best_epoch_ or 1)

    def predict(self, model: Any, data: TrainingData, rows: np.ndarray) -> FloatArray:
        from cardiospike.models.nn.lit import predict_network

        proba = np.concatenate(predict_network(model, data.recordings_at(rows)))
        assert proba.size == rows.size, "network rows must hold whole recordings"
        return proba


@dataclass(frozen=True)
class Outputs:
    """Where learners that write files while they fit put them: a folder or a URL each (None: not written)."""

    checkpoints: str | None = None
    logs: str | None = None


def _lgbm(params: dict[str, Any], outputs: Outputs) -> Learner:
    return LGBMLearner(params)


def _nn(params: dict[str, Any], outputs: Outputs) -> Learner:
    return NetLearner(params, checkpoints=outputs.checkpoints, logs=outputs.logs)


#: The base models, by the name of their parameters under ``model`` in the configuration (``conf/model/<name>``),
#: in stacking order (LightGBM first: alone, it is the whole model). Each builds its learner from its parameters
#: and where the run writes files.
LEARNERS: dict[str, Callable[[dict[str, Any], Outputs], Learner]] = {"lgbm": _lgbm, "nn": _nn}


def build_learners(models: Mapping[str, Mapping[str, Any]], outputs: Outputs | None = None) -> list[Learner]:
    """The learners of ``models`` (``{name: parameters}``, names of :data:`LEARNERS`), in stacking order."""
    if unknown := sorted(set(models) - set(LEARNERS)):
        raise ValueError(f"unknown model {', '.join(unknown)}: have {', '.join(LEARNERS)}")
    return [LEARNERS[name](dict(models[name]), outputs or Outputs()) for name in LEARNERS if name in models]


def run_params(params: Mapping[str, Any], threads: int, seed: int) -> dict[str, Any]:
    """A base model's parameters with the run's threads and seed, under the names every learner takes them by."""
    return {**params, "n_jobs": threads, "seed": seed}
