"""The gradient-boosting beat classifier, with scikit-learn's fit / predict_proba conventions.

The fitted model is a LightGBM booster that saves to and loads from LightGBM's own text format (no pickle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class LGBMBeatClassifier(ClassifierMixin, BaseEstimator):
    """Binary per-beat classifier: is this beat inside an anomaly episode?

    Parameters
    ----------
    n_estimators : int
        Most boosting rounds; with an evaluation set, early stopping may stop sooner.
    learning_rate, num_leaves, min_child_samples, feature_fraction, bagging_fraction, lambda_l2 : float or int
        LightGBM's parameters of the same names.
    early_stopping_rounds : int
        Rounds without improvement of the evaluation loss before stopping (used only with ``eval_set``).
    n_jobs : int
        Threads for training and prediction.
    seed : int
        Seed of LightGBM's sampling.
    """

    def __init__(
        self,
        n_estimators: int = 2000,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        feature_fraction: float = 0.5,
        bagging_fraction: float = 0.8,
        lambda_l2: float = 1.0,
        early_stopping_rounds: int = 100,
        n_jobs: int = 2,
        seed: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.lambda_l2 = lambda_l2
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.seed = seed

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1 if self.bagging_fraction < 1 else 0,
            "lambda_l2": self.lambda_l2,
            "num_threads": self.n_jobs,
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def fit(self, X: np.ndarray, y: np.ndarray, eval_set: tuple[np.ndarray, np.ndarray] | None = None) -> Self:
        """Fit on features ``X`` and labels ``y``; with ``eval_set=(X_val, y_val)``, stop early on its log loss."""
        train = lgb.Dataset(X, label=y, free_raw_data=True)
        callbacks: list[Callable[..., Any]] = []
        valid_sets = []
        if eval_set is not None:
            valid_sets = [lgb.Dataset(eval_set[0], label=eval_set[1], reference=train)]
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        self.booster_ = lgb.train(
            self._lgb_params(),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=valid_sets,
            callbacks=callbacks,
        )
        best = self.booster_.best_iteration
        self.best_iteration_ = int(best) if eval_set is not None and best > 0 else self.n_estimators
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of the two classes, shape (n_beats, 2), using the best iteration."""
        p = np.asarray(self.booster_.predict(X, num_iteration=self.best_iteration_, num_threads=self.n_jobs))
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Labels 0/1: 1 where the anomaly probability reaches ``threshold``."""
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int8)

    def to_text(self) -> str:
        """The fitted model in LightGBM's text format (only the trees up to the best iteration)."""
        return str(self.booster_.model_to_string(num_iteration=self.best_iteration_))
