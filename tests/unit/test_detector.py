import numpy as np
import pytest

from cardiospike.data import simulate_recording
from cardiospike.detector import default_model_path, load_detector
from cardiospike.recording import Recording


@pytest.fixture(scope="module")
def detector(tiny_model_dir):
    return load_detector(tiny_model_dir)


def test_score_finds_synthetic_episodes(detector):
    rec = simulate_recording(1000, seed=999)
    scored = detector.score(rec)
    assert scored.proba.shape == (1000,)
    assert rec.labels is not None
    tp = np.sum(scored.is_anomaly & (rec.labels == 1))
    assert tp / max(1, scored.is_anomaly.sum()) > 0.5
    assert tp / rec.labels.sum() > 0.5


def test_errors_are_flagged_and_still_scored(detector):
    rec = Recording.from_rr([800, 810, 12, 805, 40900, 790])
    scored = detector.score(rec)
    np.testing.assert_array_equal(scored.error, [False, False, True, False, True, False])
    assert np.isfinite(scored.proba).all()


def test_threshold_override(detector):
    rec = simulate_recording(300, seed=5)
    assert detector.score(rec, threshold=0.0).is_anomaly.all()
    assert not detector.score(rec, threshold=1.01).is_anomaly.any()


def test_score_many_equals_score(detector, recordings):
    many = detector.score_many(recordings[:3])
    for rec, scored in zip(recordings[:3], many, strict=True):
        np.testing.assert_allclose(scored.proba, detector.score(rec).proba)
    assert detector.score_many([]) == []


def test_frame_has_submission_columns_in_input_order(detector):
    rec = Recording.from_rr([800, 700, 900], id="p1")
    frame = detector.score(rec).to_frame()
    assert frame.columns.tolist() == ["id", "time", "x", "y", "anomaly_proba", "error"]
    assert frame["x"].tolist() == [800, 700, 900]


def test_default_model_ships_and_loads():
    assert (default_model_path() / "manifest.json").is_file()
    detector = load_detector()
    assert 0 < detector.threshold < 1
    assert "command" in detector.artifact.manifest["training"]


def test_both_forest_engines_score_alike(tiny_model_dir):
    rec = simulate_recording(2000, seed=11)
    compiled, lightgbm = (
        load_detector(tiny_model_dir, runtime="compiled"),
        load_detector(tiny_model_dir, runtime="lightgbm"),
    )
    a, b = compiled.score(rec), lightgbm.score(rec)
    np.testing.assert_allclose(a.proba, b.proba, rtol=0, atol=1e-12)
    assert np.array_equal(a.is_anomaly, b.is_anomaly)


def test_many_recordings_score_as_each_alone(detector):
    recs = [simulate_recording(n, seed=s, id=f"r{s}") for n, s in ((300, 1), (1, 2), (40, 3), (1200, 4), (2, 5))]
    together = detector.score_many(recs)
    for rec, scored in zip(recs, together, strict=True):
        alone = detector.score(rec)
        assert scored.recording is rec
        np.testing.assert_allclose(scored.proba, alone.proba, atol=1e-6)
        np.testing.assert_array_equal(scored.is_anomaly, alone.is_anomaly)
        np.testing.assert_array_equal(scored.error, alone.error)


def test_post_processing_is_applied(detector):
    # Runs shorter than the model's minimum run length never survive.
    scored = detector.score(simulate_recording(3000, seed=12))
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], scored.is_anomaly.astype(int), [0]]))))[::2]
    assert runs.size
    assert runs.min() >= detector.artifact.postprocess.min_run


def test_score_takes_plain_rr_in_any_container_and_unit(detector):
    import pandas as pd

    rec = simulate_recording(400, seed=13)
    expected = detector.score(rec).proba
    for given in (rec.rr, rec.rr.tolist(), pd.Series(rec.rr), pd.DataFrame({"RR interval (ms)": rec.rr})):
        np.testing.assert_allclose(detector.score(given).proba, expected, atol=1e-9)
    seconds = detector.score(rec.rr / 1000)  # a median RR below 10: seconds
    np.testing.assert_allclose(seconds.proba, expected, atol=1e-9)
    assert seconds.recording.unit == "s"
    assert not seconds.error.all()
