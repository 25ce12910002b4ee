"""Recording-grouped folds: one recording never lies in two folds, so scores estimate unseen patients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Index = NDArray[np.intp]


@dataclass(frozen=True)
class Fold:
    """Row indices of one split: ``train`` to fit on, ``test`` to score."""

    train: Index
    test: Index


@dataclass(frozen=True)
class OuterFold(Fold):
    """An outer split and the inner splits of its training part (indices into the same full arrays)."""

    inner: tuple[Fold, ...]


def group_folds(groups: np.ndarray, n_splits: int, seed: int) -> list[Fold]:
    """Split rows into ``n_splits`` folds so that all rows of a group (recording) share a fold.

    Groups are shuffled with ``seed`` and folds are balanced by number of rows.
    """
    from sklearn.model_selection import GroupKFold  # only where folds are made: importing it takes about a second

    n_groups = len(np.unique(groups))
    if n_splits < 2 or n_splits > n_groups:
        raise ValueError(f"cannot make {n_splits} folds from {n_groups} recordings: need 2 <= folds <= recordings")
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    rows = np.arange(len(groups))
    return [Fold(train=tr, test=te) for tr, te in splitter.split(rows, groups=groups)]


def nested_group_folds(groups: np.ndarray, outer: int, inner: int, seed: int) -> list[OuterFold]:
    """Outer recording-grouped folds, each with inner grouped folds over its training rows."""
    folds = []
    for k, fold in enumerate(group_folds(groups, outer, seed)):
        inner_folds = tuple(
            Fold(train=fold.train[f.train], test=fold.train[f.test])
            for f in group_folds(groups[fold.train], inner, seed + 1 + k)
        )
        folds.append(OuterFold(train=fold.train, test=fold.test, inner=inner_folds))
    return folds
