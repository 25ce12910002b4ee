"""The forest scoring uses: both engines give the same probabilities; compiled forests are cached per model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiospike.artifact import LGBM_FILE
from cardiospike.data import simulate_recordings
from cardiospike.features import FeatureSpec, features_for_recordings
from cardiospike.models.forest import Forest, compiled_available
from cardiospike.models.lgbm_text import ModelTextError

pytestmark = pytest.mark.skipif(not compiled_available(), reason="the 'fast' extra (lleaves) is not installed")


@pytest.fixture(scope="module")
def text(tiny_model_dir: Path) -> str:
    return (tiny_model_dir / LGBM_FILE).read_text()


@pytest.fixture(scope="module")
def X() -> np.ndarray:  # noqa: N802 (the scikit-learn name of a feature matrix)
    return features_for_recordings(simulate_recordings(6, n_beats=700, seed=5), FeatureSpec())


def test_engines_agree(text: str, X: np.ndarray):
    compiled = Forest(text).load("compiled").anomaly_proba(X)
    lightgbm = Forest(text).load("lightgbm").anomaly_proba(X)
    assert compiled.dtype == np.float64
    np.testing.assert_allclose(compiled, lightgbm, rtol=0, atol=1e-12)
    assert ((compiled > 0) & (compiled < 1)).all()


def test_compiled_once_then_read_from_the_cache(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CARDIOSPIKE_CACHE_DIR", str(tmp_path))
    told: list[str] = []
    Forest(text).load("compiled", on_compile=told.append)
    assert len(told) == 1
    cached = list((tmp_path / "forests").iterdir())
    assert len(cached) == 1
    assert cached[0].suffix == ".o"
    Forest(text).load("compiled", on_compile=told.append)
    assert len(told) == 1  # nothing compiled the second time


def test_a_cache_that_cannot_be_written_costs_only_time(text: str, X: np.ndarray, tmp_path: Path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("CARDIOSPIKE_CACHE_DIR", str(blocked))
    lightgbm = Forest(text).load("lightgbm").anomaly_proba(X)
    np.testing.assert_allclose(Forest(text).load("compiled").anomaly_proba(X), lightgbm)


def test_predictions_come_in_chunks_of_bounded_memory(text: str, X: np.ndarray, monkeypatch: pytest.MonkeyPatch):
    forest = Forest(text).load("compiled")
    whole = forest.anomaly_proba(X)
    monkeypatch.setattr("cardiospike.models.forest.CHUNK_ROWS", 333)
    np.testing.assert_array_equal(forest.anomaly_proba(X), whole)


def test_text_is_checked_and_shape_too(text: str, X: np.ndarray):
    with pytest.raises(ModelTextError):
        Forest(text[: len(text) // 2])
    with pytest.raises(ValueError, match="unknown runtime"):
        Forest(text).load("gpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="features"):
        Forest(text).anomaly_proba(X[:, :5])
