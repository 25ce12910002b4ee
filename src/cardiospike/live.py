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
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from cardiospike.episodes import Episode, runs_of_flags
from cardiospike.recording import MAX_RR_MS, SECONDS_BELOW, FloatArray, Recording, Unit, positive_median, time_from_rr

if TYPE_CHECKING:
    from cardiospike.detector import Detector

#: Beats decided together: one scoring of the window per block.
BLOCK = 16
#: Past beats a decision sees at least (more where the model looks further back: see :func:`default_history`).
HISTORY = 512


def default_lookahead(detector: Detector) -> int:
    """The beats a decision waits for: how far the model looks (:attr:`~cardiospike.detector.Detector.reach`) and,
    beyond that, what post-processing looks at (smoothing, gaps, the shortest run). Then a decision equals the one
    the whole recording gets."""
    post = detector.artifact.postprocess
    return detector.reach + post.smooth + post.max_gap + post.min_run


def default_history(detector: Detector) -> int:
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
    detector : Detector
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
        detector: Detector,
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
        self.unit: Literal["ms", "s"] | None = None if unit == "auto" else unit
        self.unit_note: str | None = None
        self.received = 0  # beats received
        self.decided = 0  # beats decided
        self._offset = 0  # index of the first beat kept
        self._rr = np.zeros(0)
        self._time = np.zeros(0)
        self._open: tuple[int, float, float] | None = None  # start, start_ms, peak probability so far
        self._closed = False

    @property
    def kept(self) -> int:
        """Beats held in memory now (bounded by ``history + lookahead + block``)."""
        return int(self._rr.size)

    def feed(self, rr: Sequence[float] | NDArray[np.floating], times: Sequence[float] | None = None) -> list[Event]:
        """Add beats (RR in the stream's unit; ``times`` in that unit too, increasing, one per beat, else the running
        sum of RR) and return the decisions and episode events they make final."""
        if self._closed:
            raise ValueError("the stream is closed")
        new = self._in_ms(np.asarray(rr, dtype=np.float64).ravel())
        scale = 1000.0 if self.unit == "s" else 1.0
        if times is None:
            # As a recording's times, running on from the last beat (an RR that is no positive number adds nothing).
            if self._time.size:
                new_time = self._time[-1] + time_from_rr(np.concatenate([[0.0], new]))[1:]
            else:
                new_time = time_from_rr(new)
        else:
            new_time = np.asarray(times, dtype=np.float64).ravel() * scale
            if new_time.shape != new.shape:
                raise ValueError(f"{new_time.size} times for {new.size} RR values: expected one time per beat")
        self._rr = np.concatenate([self._rr, new])
        self._time = np.concatenate([self._time, new_time])
        self.received += new.size
        events: list[Event] = []
        while self.received - self.decided >= self.block + self.lookahead:
            events += self._decide(self.decided + self.block, self.decided + self.block + self.lookahead)
        return events

    def _in_ms(self, rr: FloatArray) -> FloatArray:
        """RR in ms, the stream's unit decided on the first beats with a positive RR where it is ``auto``."""
        median = positive_median(rr) if self.unit is None else None
        if median is not None:  # the rule of the file readers, on the first beats that hold a positive RR
            self.unit = "s" if median < SECONDS_BELOW else "ms"
            if self.unit == "s":
                self.unit_note = f"RR read in seconds: the median of the first beats, {median:g}, is below 10"
        scale = 1000.0 if self.unit == "s" else 1.0
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
