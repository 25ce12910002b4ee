"""ECG strips of a recording read from ECG: the signal around each episode, so that a clinician can check the flags.

A strip shows the episode's intervals (from the beat before its first beat to its last beat: the RR intervals the
model flagged) with :data:`PAD_S` seconds of ECG on either side, at most :data:`MAX_STRIP_S` seconds in all, the
detected beats marked. The first :data:`MAX_STRIPS` episodes of a recording get one.

The samples are read again from the record (:class:`~cardiospike.data.ecg.EcgSource`), a strip at a time: a
day-long record is never held whole. A strip of more than :data:`MAX_STRIP_POINTS` samples is decimated for display
as the RR line is (the lowest and the highest sample of each of ``MAX_STRIP_POINTS / 2`` equal stretches, which keeps
every QRS complex's peaks), and values are rounded to a thousandth of the strip's range, so that a strip's data stays
within about :data:`MAX_STRIP_BYTES` of JSON and a recording's strips within ``MAX_STRIPS`` times that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cardiospike.data.ecg import EcgSource
from cardiospike.detector import ScoredRecording
from cardiospike.recording import FloatArray
from cardiospike.report.decimate import decimated_line, json_numbers
from cardiospike.summary import Episode

#: Episodes of a recording that get a strip: the first ones in time (the section says how many more there are).
MAX_STRIPS = 20
#: Seconds of ECG shown before an episode's first interval and after its last beat.
PAD_S = 2.0
#: The longest strip (s): of a longer episode, the strip shows its start (and says so).
MAX_STRIP_S = 20.0
#: The most points of a strip's line; a strip of more samples is decimated (min/max) to at most this many.
MAX_STRIP_POINTS = 1600
#: The most bytes of JSON a strip's data takes (points, beats and span; checked by the tests): 20 strips add at most
#: about half a megabyte to a report.
MAX_STRIP_BYTES = 28_000
#: Levels of the strip's range its values are rounded to: more than a 200-pixel-high chart shows.
LEVELS = 1000

#: What each beat of a strip is, for its mark: a beat of the recording, an anomalous one, or a measurement error
#: (a doubtful detection, an RR outside the range).
BEAT, ANOMALOUS, ERROR = 0, 1, 2


@dataclass(frozen=True)
class Strip:
    """One episode's ECG strip (times in ms from the recording's first beat).

    ``number`` is the episode's number in the section's table (from 1); ``cut`` says that the episode is longer than
    the strip shows; ``data`` is the chart's JSON (see :func:`strip_of`).
    """

    number: int
    start_ms: float
    end_ms: float
    cut: bool
    decimated: bool
    data: dict[str, Any]


@dataclass(frozen=True)
class EcgStrips:
    """The ECG strips of a recording's section: the channel they show, its sampling rate, and one strip for each of
    the first :data:`MAX_STRIPS` episodes of ``n_episodes``."""

    channel: str
    fs: float
    strips: list[Strip]
    n_episodes: int

    @property
    def n_more(self) -> int:
        """Episodes without a strip."""
        return self.n_episodes - len(self.strips)


def strips_of(scored: ScoredRecording, episodes: list[Episode], ecg: EcgSource) -> EcgStrips:
    """The strips of the first :data:`MAX_STRIPS` of a recording's ``episodes`` (times from its first beat).

    Raises
    ------
    ValueError
        Where ``ecg`` holds another number of beats than the recording.
    """
    rec = scored.recording
    if ecg.beats.shape != rec.rr.shape:
        raise ValueError(f"the ECG of recording {rec.id!r} has {ecg.beats.size} beats, the recording {len(rec)}")
    t0 = float(rec.time[0]) if len(rec) else 0.0
    kinds = np.where(scored.error, ERROR, np.where(scored.is_anomaly, ANOMALOUS, BEAT)).astype(np.int8)
    strips = [strip_of(ecg, e, number, kinds, rec.rr, t0) for number, e in enumerate(episodes[:MAX_STRIPS], start=1)]
    return EcgStrips(channel=ecg.channel, fs=ecg.fs, strips=strips, n_episodes=len(episodes))


def strip_of(
    ecg: EcgSource, episode: Episode, number: int, kinds: NDArray[np.int8], rr: FloatArray, t0: float
) -> Strip:
    """One episode's strip: its samples read from the record, decimated where many, and its beats.

    The chart's JSON: ``t0`` (ms from the first beat at the strip's first sample) and ``dt`` (ms per sample) place
    the points, whose ``i`` are sample offsets from the strip's start (null: a gap) and ``y`` their values;
    ``beats`` are the detected beats in the strip (offset, value, RR in ms, kind: :data:`BEAT`, :data:`ANOMALOUS`,
    :data:`ERROR`); ``span`` the offsets of the episode's intervals, shaded.
    """
    fs = ecg.fs
    beats = ecg.beats
    # The episode's intervals begin at the beat before its first beat (the first beat's RR ends at it).
    first = int(beats[max(episode.start - 1, 0)])
    last = int(beats[episode.end])
    pad = round(PAD_S * fs)
    start = first - pad
    stop = min(last + pad + 1, start + round(MAX_STRIP_S * fs))
    cut = stop <= last + pad
    start, stop = max(start, 0), min(stop, ecg.signal.n_samples)
    values = ecg.signal.read(start, stop)
    offsets = np.arange(values.size, dtype=np.float64)
    finite = np.isfinite(values)
    decimated = values.size > MAX_STRIP_POINTS
    if decimated:
        # Buckets without a finite sample break the line (NaN), as a gap of the RR line does.
        xs, ys = decimated_line(offsets[finite], values[finite], MAX_STRIP_POINTS // 2)
    else:
        xs, ys = offsets, np.where(finite, values, np.nan)
    decimals = _decimals(values[finite])
    lo, hi = np.searchsorted(beats, [start, stop])
    in_strip = beats[lo:hi] - start
    data = {
        "t0": round(start * 1000.0 / fs - t0, 3),
        "dt": 1000.0 / fs,
        "i": json_numbers(xs, 0),
        "y": json_numbers(ys, decimals),
        "beats": {
            "i": in_strip.tolist(),
            "y": json_numbers(values[in_strip], decimals),
            "rr": json_numbers(rr[lo:hi], 0),
            "kind": kinds[lo:hi].tolist(),
        },
        "span": [first - start, min(last, stop - 1) - start],
    }
    return Strip(
        number=number,
        start_ms=start * 1000.0 / fs - t0,
        end_ms=stop * 1000.0 / fs - t0,
        cut=cut,
        decimated=decimated,
        data=data,
    )


def _decimals(values: FloatArray) -> int:
    """Decimals that keep :data:`LEVELS` levels of the values' range (mV or µV alike), from 0 to 6."""
    span = float(values.max() - values.min()) if values.size else 0.0
    if not span > 0:
        return 3
    return min(6, max(0, math.ceil(math.log10(LEVELS / span))))
