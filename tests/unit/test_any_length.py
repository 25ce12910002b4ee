"""Recordings of any length: a beat's decision depends on the beats around it, never on the recording's length or
where the beat lies in it, so a day-long recording scores as its pieces do and a live stream as the batch does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiospike.data import simulate_recording
from cardiospike.detector import Detector, load_detector
from cardiospike.live import BeatDecisions, default_lookahead
from cardiospike.metrics import episode_counts
from cardiospike.recording import Recording
from cardiospike.training.views import cut_into_pieces, laid_end_to_end


@pytest.fixture(scope="module", params=["lgbm", "stack"])
def detector(request: pytest.FixtureRequest, tiny_model_dir: Path) -> Detector:
    """The tiny LightGBM model, and the tiny stack whose network scores windows of 64 beats."""
    folder = tiny_model_dir if request.param == "lgbm" else request.getfixturevalue("tiny_stack_dir")
    return load_detector(folder)


def _recordings_at_several_heart_rates() -> list[Recording]:
    return [
        simulate_recording(n, seed=seed, mean_rr=rr)
        for seed, (n, rr) in enumerate([(700, 600.0), (900, 1000.0), (500, 800.0), (1200, 700.0)])
    ]


def _far_from(edges: np.ndarray, n: int, margin: int) -> np.ndarray:
    """Beats further than ``margin`` from every edge (a beat index where a recording starts)."""
    beat = np.arange(n)
    distance = np.min(np.abs(beat[:, None] - edges[None, :]), axis=1)
    return distance > margin


def test_the_same_beats_score_alike_alone_and_laid_end_to_end(detector: Detector):
    recordings = _recordings_at_several_heart_rates()
    alone = detector.score_many(recordings)
    joined = detector.score(Recording.from_rr(np.concatenate([r.rr for r in recordings]), id="joined"))
    flags = np.concatenate([s.is_anomaly for s in alone])
    proba = np.concatenate([s.proba for s in alone])
    edges = np.cumsum([0, *(len(r) for r in recordings)])
    far = _far_from(edges, flags.size, default_lookahead(detector))
    assert far.sum() > 1000
    np.testing.assert_array_equal(joined.is_anomaly[far], flags[far])
    # The features are the same to the bit; a network's windows are laid from each recording's first beat, so a
    # beat may sit elsewhere in its window: its probability differs in the fifth decimal at most.
    np.testing.assert_allclose(joined.proba[far], proba[far], atol=1e-4)
    assert np.mean(joined.is_anomaly == flags) > 0.97  # near the joins the context differs: a little only


def test_a_long_recording_scores_as_its_pieces(detector: Detector):
    rec = simulate_recording(6000, seed=21)
    pieces = cut_into_pieces([rec], np.random.default_rng(0), (600, 1400))
    whole = detector.score(rec)
    parts = detector.score_many(pieces)
    edges = np.cumsum([0, *(len(p) for p in pieces)])
    far = _far_from(edges, len(rec), default_lookahead(detector))
    np.testing.assert_array_equal(np.concatenate([p.is_anomaly for p in parts])[far], whole.is_anomaly[far])


def test_a_100000_beat_recording_has_its_episodes_found(detector: Detector):
    rec = simulate_recording(100_000, seed=5)
    scored = detector.score(rec)
    assert rec.labels is not None
    found, missed, _ = episode_counts(rec.labels, scored.is_anomaly, np.zeros(len(rec)))
    assert found + missed > 900
    assert found / (found + missed) > 0.8
    # As many as in the same beats scored as short recordings (the length the model learned from).
    short = detector.score_many(cut_into_pieces([rec], np.random.default_rng(1), (150, 300)))
    found_short = episode_counts(rec.labels, np.concatenate([s.is_anomaly for s in short]), np.zeros(len(rec)))[0]
    assert abs(found - found_short) <= 0.02 * (found + missed)


def test_the_stream_decides_every_beat_of_a_long_recording_as_the_batch(detector: Detector):
    """Exactly: the stream scores its history as a piece of the whole, its network windows laid as the batch's."""
    rec = laid_end_to_end(_recordings_at_several_heart_rates(), np.random.default_rng(3), min_beats=10_000)
    rng = np.random.default_rng(4)
    stream = detector.stream()
    decisions: list[BeatDecisions] = []
    at = 0
    while at < len(rec):
        size = int(rng.integers(1, 300))
        decisions += [e for e in stream.feed(rec.rr[at : at + size]) if isinstance(e, BeatDecisions)]
        at += size
    decisions += [e for e in stream.close() if isinstance(e, BeatDecisions)]
    batch = detector.score(rec)
    flags = np.concatenate([d.is_anomaly for d in decisions])
    assert flags.size == len(rec) >= 10_000
    np.testing.assert_array_equal(flags, batch.is_anomaly)
    np.testing.assert_allclose(np.concatenate([d.anomaly_proba for d in decisions]), batch.proba, atol=1e-6)
    assert stream.kept <= stream.history + stream.lookahead + stream.block


def test_the_shipped_model_finds_the_episodes_of_a_day_long_simulation():
    """A 100,000-beat recording (about a day) as the demo simulates it: its episodes are found, as in short ones."""
    detector = load_detector()
    rec = simulate_recording(100_000, seed=7)
    assert rec.labels is not None
    found, missed, _ = episode_counts(rec.labels, detector.score(rec).is_anomaly, np.zeros(len(rec)))
    assert found / (found + missed) > 0.85
