"""Live scoring: decisions do not depend on how beats arrive, come after the look-ahead, and match the recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardiospike.data import read_recordings, simulate_recording
from cardiospike.detector import Detector, load_detector
from cardiospike.episodes import runs_of_flags
from cardiospike.live import BeatDecisions, BeatStream, EpisodeEvent, PieceScores
from cardiospike.recording import Recording, time_from_rr
from tests.conftest import real_data


@pytest.fixture(scope="module")
def detector(tiny_model_dir: Path) -> Detector:
    return load_detector(tiny_model_dir)


def _play(stream: BeatStream, rec: Recording, chunks: list[int]) -> tuple[list[BeatDecisions], list[EpisodeEvent]]:
    events = []
    at = 0
    for size in chunks:
        events += stream.feed(rec.rr[at : at + size])
        at += size
    events += stream.close()
    decisions = [e for e in events if isinstance(e, BeatDecisions)]
    episodes = [e for e in events if isinstance(e, EpisodeEvent)]
    return decisions, episodes


def _flags(decisions: list[BeatDecisions]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([d.is_anomaly for d in decisions]), np.concatenate([d.anomaly_proba for d in decisions])


def _check_same_whatever_the_chunks(detector: Detector, rec: Recording, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    one_by_one = _play(detector.stream(), rec, [1] * len(rec))
    random_chunks = _play(detector.stream(), rec, rng.integers(1, 60, len(rec)).tolist())
    all_at_once = _play(detector.stream(), rec, [len(rec)])
    (flags, proba) = _flags(one_by_one[0])
    for decisions, episodes in (random_chunks, all_at_once):
        other_flags, other_proba = _flags(decisions)
        np.testing.assert_array_equal(other_flags, flags)
        np.testing.assert_array_equal(other_proba, proba)
        assert [e.to_dict() for e in episodes] == [e.to_dict() for e in one_by_one[1]]
    assert flags.size == len(rec)
    assert [d.start_index for d in one_by_one[0]] == np.cumsum([0] + [d.is_anomaly.size for d in one_by_one[0]])[
        :-1
    ].tolist()
    return flags


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_decisions_do_not_depend_on_the_chunks(detector: Detector, seed: int):
    _check_same_whatever_the_chunks(detector, simulate_recording(900, seed=seed), seed)


@pytest.mark.real_data
def test_decisions_do_not_depend_on_the_chunks_on_real_recordings(detector: Detector):
    for i, rec in enumerate(read_recordings(real_data("train.csv"))[:8]):
        _check_same_whatever_the_chunks(detector, rec, i)


def test_a_decision_comes_once_lookahead_beats_followed_and_memory_stays_bounded(detector: Detector):
    stream = detector.stream(lookahead=20, block=8, history=100)
    rec = simulate_recording(2000, seed=9)
    decided = 0
    for i, rr in enumerate(rec.rr):
        for event in stream.feed([rr]):
            if isinstance(event, BeatDecisions):
                last = event.start_index + event.is_anomaly.size - 1
                assert i - last >= 20  # never before the look-ahead
                assert i - event.start_index <= 20 + 8 - 1  # at most a block later
                decided = last + 1
        assert stream.kept <= 100 + 20 + 8
    assert decided == stream.decided > 0


def test_episode_events_match_the_runs_of_decisions(detector: Detector):
    rec = simulate_recording(3000, seed=11)
    decisions, events = _play(detector.stream(), rec, [7] * (len(rec) // 7 + 1))
    flags, proba = _flags(decisions)
    expected = runs_of_flags(flags, rec.time, proba)
    assert expected, "the simulation should have episodes"
    closed = [e.episode for e in events if e.kind == "close"]
    opened = [e.episode for e in events if e.kind == "open"]
    assert closed == expected
    assert [(e.start, e.start_ms) for e in opened] == [(e.start, e.start_ms) for e in expected]


def test_live_decisions_equal_the_whole_recordings(detector: Detector):
    rec = simulate_recording(3000, seed=12)
    flags = _check_same_whatever_the_chunks(detector, rec, 0)
    np.testing.assert_array_equal(flags, detector.score(rec).is_anomaly)


def test_the_default_look_ahead_and_history_cover_the_models_reach(detector: Detector):
    stream = detector.stream()
    post = detector.artifact.postprocess
    assert stream.lookahead == detector.reach + post.smooth + post.max_gap + post.min_run
    assert detector.reach == detector.artifact.features.reach  # LightGBM alone: its features' reach
    assert stream.history >= stream.lookahead


def test_times_and_bad_use(detector: Detector):
    stream = detector.stream(lookahead=0, block=1)
    with pytest.raises(ValueError, match="one time per beat"):
        stream.feed([800, 810], times=[0.0])
    (decisions,) = [e for e in stream.feed([800.0], times=[1000.0]) if isinstance(e, BeatDecisions)]
    assert decisions.to_dict()["start_index"] == 0
    stream.close()
    with pytest.raises(ValueError, match="closed"):
        stream.feed([800])


class SeenPieces:
    """A model (a :class:`~cardiospike.live.PieceScorer`) that scores as ``detector`` does and keeps the pieces of
    recording the stream gave it: what the stream made of the beats fed, times included."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.pieces: list[Recording] = []

    @property
    def decision_reach(self) -> int:
        return self.detector.decision_reach

    def score_piece(self, recording: Recording, offset: int, threshold: float | None = None) -> PieceScores:
        self.pieces.append(recording)
        return self.detector.score_piece(recording, offset, threshold)


def test_beats_are_timed_as_a_recording_is_whatever_the_chunks(detector: Detector):
    rr = np.array([800.0, np.nan, 810.0, -5.0, 0.0, 790.0, 805.0])  # NaN and negative RR as Python may give them
    model = SeenPieces(detector)
    stream = BeatStream(model, lookahead=100)  # nothing is decided before the stream is closed
    for chunk in (rr[:2], rr[2:3], rr[3:]):
        assert stream.feed(chunk) == []
    stream.close()  # every beat decided at once, from one piece: the whole stream
    (piece,) = model.pieces
    np.testing.assert_array_equal(piece.rr, rr)
    np.testing.assert_array_equal(piece.time, time_from_rr(rr))
