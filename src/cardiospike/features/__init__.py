"""Pure, vectorised per-beat features of RR recordings."""

from cardiospike.features.beats import FeatureSpec, beat_features, feature_names, features_for_recordings
from cardiospike.features.windows import centred_windows, normalise_rr, rolling_hrv

__all__ = [
    "FeatureSpec",
    "beat_features",
    "centred_windows",
    "feature_names",
    "features_for_recordings",
    "normalise_rr",
    "rolling_hrv",
]
