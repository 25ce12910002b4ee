"""Shared fixtures: small synthetic recordings and a tiny model trained once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cardiospike.artifact import save_artifact
from cardiospike.data import simulate_recordings
from cardiospike.features import FeatureSpec
from cardiospike.recording import Recording
from cardiospike.training.cv import CVConfig, TrainConfig, train

#: Where the real data lives beside the checkout (override with CARDIOSPIKE_DATA).
DATA_DIR = Path(
    os.environ.get("CARDIOSPIKE_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike")
)

TINY_LGBM = {"n_estimators": 40, "learning_rate": 0.2, "num_leaves": 7, "min_child_samples": 10, "n_jobs": 1}
TINY_CONFIG = TrainConfig(cv=CVConfig(outer=2, inner=2, seed=1), features=FeatureSpec(), models={"lgbm": TINY_LGBM})


@pytest.fixture(scope="session")
def recordings() -> list[Recording]:
    return simulate_recordings(8, n_beats=400, seed=100)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, recordings: list[Recording]) -> Path:
    result = train(recordings, TINY_CONFIG)
    out = tmp_path_factory.mktemp("model") / "tiny"
    save_artifact(
        result.artifact(TINY_CONFIG.features, {"command": "tests", "config": {"models": TINY_CONFIG.models}}), out
    )
    return out


def real_data(name: str) -> Path:
    """Path of a real data file, or skip the test with the reason."""
    path = DATA_DIR / name
    if not path.is_file():
        pytest.skip(f"real data not found at {path} (set CARDIOSPIKE_DATA to the folder holding {name})")
    return path
