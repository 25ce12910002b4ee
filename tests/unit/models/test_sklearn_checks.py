"""The LightGBM beat classifier keeps scikit-learn's estimator conventions: all of ``check_estimator``'s checks.

Its tags say what it takes (``LGBMBeatClassifier.__sklearn_tags__``: dense 2-D float input, NaN allowed, binary
labels); no check is expected to fail. A small forest (20 trees, one thread) keeps the run short.
"""

from __future__ import annotations

from collections.abc import Callable

from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

from cardiospike.models.lgbm import LGBMBeatClassifier


@parametrize_with_checks([LGBMBeatClassifier(n_estimators=20, n_jobs=1)])
def test_sklearn_compatible_estimator(estimator: BaseEstimator, check: Callable[[BaseEstimator], None]) -> None:
    check(estimator)
