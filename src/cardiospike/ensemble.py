"""Stacking: a logistic regression over base models' out-of-fold probabilities.

The stacker works on log-odds, so a base model's confident probabilities keep their weight, and it is stored as
plain numbers (JSON in the artifact's manifest), never pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from cardiospike.recording import FloatArray

#: Probabilities are clipped to [EPS, 1 - EPS] before taking log-odds.
EPS = 1e-6


def log_odds(proba: np.ndarray) -> FloatArray:
    """Log-odds of probabilities, clipped away from 0 and 1."""
    p = np.clip(np.asarray(proba, dtype=np.float64), EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True)
class Stacker:
    """``sigmoid(intercept + sum_k coef_k * logit(p_k))`` over the base models ``names``."""

    names: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float

    def predict_proba(self, base: np.ndarray) -> FloatArray:
        """Stacked probability of each beat from the base models' probabilities, shape (n_beats, n_models)."""
        if base.ndim != 2 or base.shape[1] != len(self.names):
            raise ValueError(f"expected probabilities of {len(self.names)} base models, got shape {base.shape}")
        z = self.intercept + log_odds(base) @ np.asarray(self.coef)
        return np.exp(-np.logaddexp(0.0, -z))

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stacker:
        return cls(
            names=tuple(data["names"]), coef=tuple(float(c) for c in data["coef"]), intercept=float(data["intercept"])
        )


def fit_stacker(base: np.ndarray, y: np.ndarray, names: Sequence[str], C: float = 1.0) -> Stacker:
    """Fit the logistic regression on out-of-fold base probabilities ``base`` (n_beats, n_models)."""
    model = LogisticRegression(C=C, max_iter=1000).fit(log_odds(base), np.asarray(y).astype(int))
    return Stacker(
        names=tuple(names), coef=tuple(float(c) for c in model.coef_[0]), intercept=float(model.intercept_[0])
    )
