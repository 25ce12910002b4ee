"""Live scoring of a beat stream: final decisions after a fixed look-ahead, equal to the whole recording's.

A chest strap or a phone app delivers RR intervals as they happen. A :class:`BeatStream` takes them in chunks of any
size and decides the beats in blocks of ``block`` beats: a block is decided once ``lookahead`` beats have followed
its last beat, by scoring the last ``history`` beats up to then as a piece of the whole recording
(:meth:`~cardiospike.detector.Detector.score_piece`: the detector's whole pipeline, its network windows laid as in
the whole recording). A beat's probability depends only on the beats within the model's reach of it, so with the
default look-ahead and history (:func:`default_lookahead`, :func:`default_history`) every decision is the one the
whole recording gets in a batch, however long the stream and whatever the chunks were. A decision is final when it
is given, and so are the episode events derived from the decisions. Closing the stream decides the last beats as
the end of a recording is decided. Memory is bounded: the stream keeps ``history + lookahead + block`` beats.

A beat is decided at most ``lookahead + block - 1`` beats after it arrived, and at least ``lookahead`` beats after.

RR (and times) come in the stream's ``unit``: ``ms``, ``s``, or ``auto``, decided by the file readers' rule (seconds
where the median RR is below 10) on the first beats fed that hold a positive RR, and kept for the rest of the stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from cardiospike.episodes import Episode, runs_of_flags
from cardiospike.recording import (
    MAX_RR_MS,
    SECONDS_BELOW,
    FloatArray,
    Recording,
    RRUnit,
    Unit,
    first_time_not_after,
    positive_median,
    time_from_rr,
)


class PieceScores(Protocol):
    """Per-beat scores of a piece of a recording: probabilities, flags and measurement errors."""

    @property
    def proba(self) -> FloatArray: ...

    @property
    def is_anomaly(self) -> NDArray[np.bool_]: ...

    @property
    def error(self) -> NDArray[np.bool_]: ...


class PieceScorer(Protocol):
    """What a stream needs of a model (:class:`~cardiospike.detector.Detector` is one): how far a decision looks
    beyond its beat (the model's reach and post-processing, :attr:`decision_reach`), and the scoring of a piece of a
    recording as the whole recording scores it (``score_piece``)."""

    @property
    def decision_reach(self) -> int: ...

    def score_piece(self, recording: Recording, offset: int, threshold: float | None = None) -> PieceScores: ...


#: Beats decided together: one scoring of the window per block.
BLOCK = 16
#: Past beats a decision sees at least (more where the model looks further back: see :func:`default_history`).
HISTORY = 512


def default_lookahead(detector: PieceScorer) -> int:
    """The beats a decision waits for: how far the model and its post-processing look
    (:attr:`~cardiospike.detector.Detector.decision_reach`). Then a decision equals the one the whole recording
    gets."""
    return detector.decision_reach


def default_history(detector: PieceScorer) -> int:
    """The past beats a decision sees: :data:`HISTORY`, or what the model and post-processing look back at where
    that is more (as far as they look ahead)."""
    return max(HISTORY, default_lookahead(detector))


@dataclass(frozen=True)
class BeatDecisions:
    """Final decisions of consecutive beats, from beat ``start_index`` on (counted from the stream's first beat)."""

    start_index: int
    anomaly_proba: FloatArray
    is_anomaly: NDArray[np.bool_]
    errors: NDArray[np.bool_]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "beats",
            "start_index": self.start_index,
            "anomaly_proba": np.round(self.anomaly_proba, 6).tolist(),
            "is_anomaly": self.is_anomaly.astype(np.int8).tolist(),
            "errors": self.errors.astype(np.int8).tolist(),
        }


@dataclass(frozen=True)
class EpisodeEvent:
    """An episode that opened (its first beat is decided anomalous) or closed (its last beat is decided).

    For ``open``, ``episode`` holds the first beat only (``end == start``); for ``close``, the whole episode.
    """

    kind: Literal["open", "close"]
    episode: Episode

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "open":
            return {"type": "episode_open", "start": self.episode.start, "start_ms": self.episode.start_ms}
        return {"type": "episode_close", **self.episode.to_dict()}


Event = BeatDecisions | EpisodeEvent


class BeatStream:
    """Scores a stream of RR intervals as they arrive (see the module docstring).

    Parameters
    ----------
    detector : PieceScorer
        The model.
    lookahead : int, optional
        Beats a decision waits for (default: :func:`default_lookahead`).
    block : int
        Beats decided together.
    history : int, optional
        Past beats a decision sees (default: :func:`default_history`).
    threshold : float, optional
        Decision threshold instead of the model's.
    unit : {"auto", "ms", "s"}
        Unit of the RR and times fed (see the module docstring); :attr:`unit` says which was taken, once known, and
        :attr:`unit_note` why, where it is not plainly milliseconds.
    """

    def __init__(
        self,
        detector: PieceScorer,
        lookahead: int | None = None,
        block: int = BLOCK,
        history: int | None = None,
        threshold: float | None = None,
        unit: Unit = "auto",
    ) -> None:
        self.detector = detector
        self.lookahead = default_lookahead(detector) if lookahead is None else int(lookahead)
        history = default_history(detector) if history is None else int(history)
        if self.lookahead < 0 or block < 1 or history < 0:
            raise ValueError("lookahead and history must be >= 0, block >= 1")
        if unit not in ("auto", "ms", "s"):
            raise ValueError(f"unknown unit {unit!r}; expected one of auto, ms, s")
        self.block, self.history, self.threshold = block, history, threshold
        self.unit: RRUnit | None = None if unit == "auto" else unit
        self.unit_note: str | None = None
        self.received = 0  # beats received
        self.decided = 0  # beats decided
        self._offset = 0  # index of the first beat kept
        self._rr = np.zeros(0)
        self._time = np.zeros(0)
        self._last_time: float | None = None  # time of the last beat fed, kept when the beats are forgotten
        self._open: tuple[int, float, float] | None = None  # start, start_ms, peak probability so far
        self._closed = False

    @property
    def kept(self) -> int:
        """Beats held in memory now (bounded by ``history + lookahead + block``)."""
        return int(self._rr.size)

    def feed(self, rr: Sequence[float] | NDArray[np.floating], times: Sequence[float] | None = None) -> list[Event]:
        """Add beats (RR in the stream's unit; ``times`` in that unit too, one per beat, each after the one before,
        from the previous chunk's last beat on; else the running sum of RR) and return the decisions and episode
        events they make final. A chunk that is refused (ValueError) changes nothing, the unit included."""
        if self._closed:
            raise ValueError("the stream is closed")
        raw = np.asarray(rr, dtype=np.float64).ravel()
        unit, note = self._unit_of(raw)
        new = self._in_ms(raw, unit)
        scale = 1000.0 if unit == "s" else 1.0
        if times is None:
            # As a recording's times, running on from the last beat (an RR that is no positive number adds nothing).
            if self._last_time is not None:
                new_time = self._last_time + time_from_rr(np.concatenate([[0.0], new]))[1:]
            else:
                new_time = time_from_rr(new)
        else:
            with np.errstate(over="ignore"):  # times near 1e308 in seconds: beyond any float in milliseconds
                new_time = np.asarray(times, dtype=np.float64).ravel() * scale
            if new_time.shape != new.shape:
                raise ValueError(f"{new_time.size} times for {new.size} RR values: expected one time per beat")
            self._check_times(new_time, new)
        self.unit, self.unit_note = unit, note
        self._rr = np.concatenate([self._rr, new])
        self._time = np.concatenate([self._time, new_time])
        if new_time.size:
            self._last_time = float(new_time[-1])
        self.received += new.size
        events: list[Event] = []
        while self.received - self.decided >= self.block + self.lookahead:
            events += self._decide(self.decided + self.block, self.decided + self.block + self.lookahead)
        return events

    def _check_times(self, time: FloatArray, rr: FloatArray) -> None:
        """Given times (ms) are finite and each after the one before, the first after the last beat fed before, as
        the REST API asks of a recording's times (:func:`~cardiospike.recording.first_time_not_after`: they may stay
        put over an RR that is no positive number, as times computed from RR do)."""
        beyond = np.flatnonzero(~np.isfinite(time))
        if beyond.size:
            raise ValueError(f"times[{beyond[0]}]: not a finite time in milliseconds (read in seconds?)")
        # With the last beat fed before, if any, in front (at -1): the join is checked as the steps within.
        before = 0 if self._last_time is None else 1
        if before:
            time, rr = np.r_[self._last_time, time], np.r_[1.0, rr]
        back = first_time_not_after(time, rr)
        if back is None:
            return
        back -= before
        if back == 0:
            raise ValueError("times[0]: not after the last beat before it, of an earlier message (times must increase)")
        raise ValueError(f"times[{back}]: not after times[{back - 1}] (times must increase)")

    def _unit_of(self, rr: FloatArray) -> tuple[RRUnit | None, str | None]:
        """The stream's unit and why, decided on the first beats with a positive RR where it is ``auto``."""
        median = positive_median(rr) if self.unit is None else None
        if median is None:  # decided already, or not yet decidable
            return self.unit, self.unit_note
        if median < SECONDS_BELOW:  # the rule of the file readers, on the first beats that hold a positive RR
            return "s", f"RR read in seconds: the median of the first beats, {median:g}, is below 10"
        return "ms", None

    def _in_ms(self, rr: FloatArray, unit: RRUnit | None) -> FloatArray:
        """RR in ms, read in ``unit``."""
        scale = 1000.0 if unit == "s" else 1.0
        with np.errstate(over="ignore"):
            rr_ms = rr * scale
        above = np.flatnonzero(rr_ms > MAX_RR_MS)
        if above.size:
            raise ValueError(
                f"rr[{above[0]}]: RR above {MAX_RR_MS:,.0f} ms is no heart beat interval (the stream reads "
                f"{'seconds' if scale != 1.0 else 'milliseconds'})"
            )
        return rr_ms

    def close(self) -> list[Event]:
        """Decide the beats left, as the end of a recording is decided, and close an episode still open."""
        events: list[Event] = []
        if not self._closed and self.received > self.decided:
            events = self._decide(self.received, self.received)
        if self._open is not None:
            events.append(self._close(self.decided - 1))
        self._closed = True
        return events

    def _time_of(self, index: int) -> float:
        return float(self._time[index - self._offset])

    def _decide(self, stop: int, end: int) -> list[Event]:
        """Decide beats ``decided .. stop - 1`` from the window of beats that ends at ``end`` (exclusive)."""
        first = max(0, self.decided - self.history)
        window = slice(first - self._offset, end - self._offset)
        recording = Recording(id="stream", rr=self._rr[window], time=self._time[window])
        scored = self.detector.score_piece(recording, first, self.threshold)
        part = slice(self.decided - first, stop - first)
        decisions = BeatDecisions(self.decided, scored.proba[part], scored.is_anomaly[part], scored.error[part])
        events: list[Event] = [decisions, *self._episode_events(decisions)]
        self.decided = stop
        self._forget()
        return events

    def _episode_events(self, decisions: BeatDecisions) -> list[EpisodeEvent]:
        """Open and close events of the runs of anomalous beats, continuing an episode still open."""
        at, n = decisions.start_index, decisions.is_anomaly.size
        time = self._time[at - self._offset : at - self._offset + n]
        runs = runs_of_flags(decisions.is_anomaly, time, decisions.anomaly_proba, offset=at)
        events: list[EpisodeEvent] = []
        if self._open is not None and not (runs and runs[0].start == at):
            events.append(self._close(at - 1))  # the episode ended with the previous block
        for run in runs:
            if self._open is not None:  # the open episode goes on into this block
                start, start_ms, before = self._open
                self._open = (start, start_ms, max(before, run.max_proba))
            else:
                events.append(EpisodeEvent("open", replace(run, end=run.start, end_ms=run.start_ms, n_beats=1)))
                self._open = (run.start, run.start_ms, run.max_proba)
            if run.end < at + n - 1:  # it ends inside this block
                events.append(self._close(run.end))
        return events

    def _close(self, end: int) -> EpisodeEvent:
        assert self._open is not None
        start, start_ms, peak = self._open
        self._open = None
        episode = Episode(start, end, start_ms, self._time_of(end), end - start + 1, round(peak, 6))
        return EpisodeEvent("close", episode)

    def _forget(self) -> None:
        """Drop the beats no later decision needs."""
        keep_from = max(0, self.decided - self.history)
        drop = keep_from - self._offset
        if drop > 0:
            self._rr, self._time = self._rr[drop:], self._time[drop:]
            self._offset = keep_from
