"""The whole pipeline with a network: nested CV, stacking, ONNX export, scoring through ONNX Runtime."""

from pathlib import Path

import numpy as np
import pytest

from cardiospike.artifact import NETWORK_FILE, load_artifact, save_artifact
from cardiospike.detector import Detector
from cardiospike.training.cv import train
from tests.conftest import debug_config

pytest.importorskip("torch")


@pytest.fixture(scope="module", params=["cardionet", "features"])
def stacked(request, recordings):
    config = debug_config(f"model/nn={request.param}")
    return config, train(recordings[:6], config)


def test_report_has_the_stack_and_each_base_model(stacked):
    _, result = stacked
    report = result.report
    assert report["models"] == "lgbm + nn stacked by logistic regression"
    assert set(report["base_models"]) == {"lgbm", "nn"}
    assert all(set(f["base_f1"]) == {"lgbm", "nn"} for f in report["folds"])
    assert result.fitted.tuning.stacker is not None
    assert result.fitted.tuning.rounds["nn"] >= 1


def test_artifact_scores_like_the_trained_models(stacked, recordings, tmp_path: Path):
    config, result = stacked
    folder = save_artifact(result.artifact(config.features, {"command": "tests"}), tmp_path / "stack")
    assert (folder / NETWORK_FILE).is_file()
    artifact = load_artifact(folder)
    detector = Detector(artifact)
    recs = recordings[6:8]
    # What training computes with torch, the detector computes with ONNX Runtime.
    from cardiospike.training.learners import TrainingData

    data = TrainingData.build(recs, config.features)
    expected, _ = result.fitted.predict(data, np.arange(len(data.y)))
    np.testing.assert_allclose(detector.raw_proba(recs), expected, atol=1e-5)
