"""Pure, vectorised per-beat features of RR recordings."""

from cardiospike.features.beats import FeatureSpec, beat_features, feature_names, features_for_recordings
from cardiospike.features.windows import WindowSums, distance_to_flags, local_outliers

__all__ = [
    "FeatureSpec",
    "WindowSums",
    "beat_features",
    "distance_to_flags",
    "feature_names",
    "features_for_recordings",
    "local_outliers",
]
