"""Beat classifiers."""

from cardiospike.models.lgbm import LGBMBeatClassifier

__all__ = ["LGBMBeatClassifier"]
