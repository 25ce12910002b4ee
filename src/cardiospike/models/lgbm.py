"""The gradient-boosting beat classifier, a scikit-learn classifier (``fit`` / ``predict_proba`` / ``predict``;
it passes scikit-learn's ``check_estimator``).

The fitted model is a LightGBM booster that saves to and loads from LightGBM's own text format (no pickle).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Self

import lightgbm as lgb
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Tags
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

#: What the feature matrix may be: dense, 2-D, float32 (as the features are) or float64 (anything else becomes
#: float64; float32 is kept, not copied, and LightGBM bins it the same), NaN for a missing value, never inf.
_X_CHECKS: dict[str, Any] = {"dtype": [np.float32, np.float64], "ensure_all_finite": "allow-nan"}


class LGBMBeatClassifier(ClassifierMixin, BaseEstimator):
    """Binary per-beat classifier: is this beat inside an anomaly episode?

    Labels are 0/1 (1: inside an anomaly episode), or any two labels (the greater is the positive class). With
    0/1 labels, ``classes_`` is [0, 1] even where ``y`` holds one of them only (a fold without an episode).

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

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The fitted LightGBM model.
    best_iteration_ : int
        The boosting rounds the model predicts with: the early stopping's best with ``eval_set``, else ``n_estimators``.
    classes_ : ndarray of shape (2,)
        The labels, the negative class first.
    n_features_in_ : int
        The number of features seen in ``fit``.
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

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a missing feature is NaN: LightGBM routes it down its own branch
        tags.input_tags.sparse = False
        tags.classifier_tags.multi_class = False  # one binary objective: normal beat / anomaly
        return tags

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
        # At least 2 rows: with one, bagging would sample none and LightGBM would fail less clearly.
        X, y = validate_data(self, X, y, ensure_min_samples=2, **_X_CHECKS)
        check_classification_targets(y)
        if (kind := type_of_target(y, input_name="y", raise_unknown=True)) != "binary":
            raise ValueError(f"Only binary classification is supported. The type of the target is {kind}.")
        self.classes_ = _classes(y)
        train = lgb.Dataset(X, label=self._encode(y), free_raw_data=True)
        callbacks: list[Callable[..., Any]] = []
        valid_sets = []
        if eval_set is not None:
            X_val = self._checked_features(eval_set[0], ensure_min_samples=1)
            y_val = check_array(eval_set[1], ensure_2d=False, dtype=None)
            if y_val.ndim != 1 or y_val.shape[0] != X_val.shape[0]:
                raise ValueError(f"eval_set: expected {X_val.shape[0]} labels, got shape {y_val.shape}")
            valid_sets = [lgb.Dataset(X_val, label=self._encode(y_val), reference=train)]
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
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of the two classes, shape (n_beats, 2), using the best iteration."""
        check_is_fitted(self)
        X = self._checked_features(X)
        p = np.asarray(self.booster_.predict(X, num_iteration=self.best_iteration_, num_threads=self.n_jobs))
        return np.column_stack([1 - p, p])

    def predict(self, X: np.ndarray, threshold: float = 0.5) -> np.ndarray:
        """Labels: the positive class (``classes_[1]``, the anomaly) where its probability reaches ``threshold``."""
        positive = self.predict_proba(X)[:, 1] >= threshold
        return self.classes_[positive.astype(np.intp)]

    def _checked_features(self, X: np.ndarray, ensure_min_samples: int = 0) -> np.ndarray:
        """``X`` checked against the fitted features (no rows is fine: no probabilities)."""
        return np.asarray(validate_data(self, X, reset=False, ensure_min_samples=ensure_min_samples, **_X_CHECKS))

    def _encode(self, y: np.ndarray) -> np.ndarray:
        """Labels as LightGBM's 0/1 (1: the positive class)."""
        y = np.asarray(y)
        unknown = ~np.isin(y, self.classes_)
        if unknown.any():
            raise ValueError(f"labels {np.unique(y[unknown])[:5].tolist()} are not among the classes {self.classes_}")
        return (y == self.classes_[1]).astype(np.float32)

    def to_text(self) -> str:
        """The fitted model in LightGBM's text format (only the trees up to the best iteration)."""
        return str(self.booster_.model_to_string(num_iteration=self.best_iteration_))


def _classes(y: np.ndarray) -> np.ndarray:
    """The two classes of binary labels ``y``: its two values, or [0, 1] where it holds only 0s or only 1s."""
    classes = np.unique(y)
    if classes.size == 1 and classes[0] in (0, 1):
        return np.array([0, 1], dtype=classes.dtype)
    if classes.size != 2:
        raise ValueError(f"the beat classifier needs two classes in y (or 0/1 labels), got one: {classes[0]!r}")
    return classes
