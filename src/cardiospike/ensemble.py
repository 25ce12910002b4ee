"""Stacking: a logistic regression over base models' out-of-fold probabilities.

The stacker works on log-odds, so a base model's confident probabilities keep their weight, and it is stored as
plain numbers (JSON in the artifact's manifest), never pickled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cardiospike.arrays import sigmoid
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

    def anomaly_proba(self, base: np.ndarray) -> FloatArray:
        """Stacked anomaly probability of each beat, shape (n_beats,), from the base models' anomaly probabilities,
        shape (n_beats, n_models)."""
        if base.ndim != 2 or base.shape[1] != len(self.names):
            raise ValueError(f"expected probabilities of {len(self.names)} base models, got shape {base.shape}")
        z = self.intercept + log_odds(base) @ np.asarray(self.coef)
        return sigmoid(z)

    def check(self) -> None:
        """Raise ValueError unless the stacker can be what :func:`fit_stacker` makes (a damaged manifest)."""
        values = np.array([*self.coef, self.intercept], dtype=np.float64)
        if len(self.coef) != len(self.names) or not np.isfinite(values).all():
            raise ValueError("the stacker needs one finite coefficient per base model")
        if min(self.coef) < 0 or max(self.coef) <= 0:
            raise ValueError("the stacker's coefficients must be non-negative, one at least positive")

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "coef": list(self.coef), "intercept": self.intercept}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stacker:
        return cls(
            names=tuple(data["names"]), coef=tuple(float(c) for c in data["coef"]), intercept=float(data["intercept"])
        )


def fit_stacker(base: np.ndarray, y: np.ndarray, names: Sequence[str], C: float = 1.0) -> Stacker:
    """Fit the logistic regression on out-of-fold base probabilities ``base`` (n_beats, n_models).

    A base model whose coefficient comes out negative (it would only correct the others, through their
    correlation) is left out and the rest refitted, so every coefficient is non-negative: a more probable
    anomaly by any base model never lowers the stacked probability.
    """
    from sklearn.linear_model import LogisticRegression  # only where a model is trained

    x, target = log_odds(base), np.asarray(y).astype(int)
    used = np.ones(x.shape[1], dtype=bool)
    while True:
        model = LogisticRegression(C=C, max_iter=1000).fit(x[:, used], target)
        coef = np.zeros(x.shape[1])
        coef[used] = model.coef_[0]
        if (coef >= 0).all() or used.sum() == 1:
            break
        used = coef > 0 if (coef > 0).any() else coef == coef.max()
    return Stacker(names=tuple(names), coef=tuple(float(c) for c in coef), intercept=float(model.intercept_[0]))
