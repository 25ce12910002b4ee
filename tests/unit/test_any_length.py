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


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> int:
    """Recordings scored in pieces of 1,500 beats: a test's recordings of a few thousand are cut."""
    monkeypatch.setattr("cardiospike.detector.BATCH_BEATS", 1_500)
    return 1_500


def test_a_recording_scored_in_pieces_gets_the_whole_recording_s_scores(detector: Detector, small_pieces: int):
    """Every beat, the pieces' edges included: each piece is scored with the beats its decisions look at."""
    rec = laid_end_to_end(_recordings_at_several_heart_rates(), np.random.default_rng(7), min_beats=5_000)
    whole = detector._score_batch([rec], None)[0]  # one call of the model on the whole recording
    told: list[int] = []
    [scored] = detector.score_many([rec], progress=told.append)
    assert len(told) == -(-len(rec) // small_pieces) >= 4  # one call per piece, each told
    assert sum(told) == len(rec)
    assert scored.recording is rec
    np.testing.assert_array_equal(scored.is_anomaly, whole.is_anomaly)
    np.testing.assert_array_equal(scored.error, whole.error)
    # The network's batches of windows differ between a piece and the whole: float sums in another order.
    np.testing.assert_allclose(scored.proba, whole.proba, rtol=0, atol=1e-9)
    assert whole.is_anomaly.any()


@pytest.mark.parametrize("jobs", [2, 3])
def test_threads_give_the_same_scores_to_the_bit(tiny_stack_dir: Path, small_pieces: int, jobs: int):
    recordings = [
        *_recordings_at_several_heart_rates(),
        laid_end_to_end(_recordings_at_several_heart_rates(), np.random.default_rng(8), min_beats=4_000),
        *(simulate_recording(n, seed=n) for n in (40, 300, 2_000)),
    ]
    one = load_detector(tiny_stack_dir).score_many(recordings, threshold=0.3)
    parallel = load_detector(tiny_stack_dir, jobs=jobs)
    assert parallel.jobs == jobs
    told: list[int] = []
    many = parallel.score_many(recordings, threshold=0.3, progress=told.append)
    assert sum(told) == sum(len(r) for r in recordings)
    assert [s.recording for s in many] == recordings
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a.proba, b.proba)
        np.testing.assert_array_equal(a.is_anomaly, b.is_anomaly)
        assert a.threshold == b.threshold == 0.3
