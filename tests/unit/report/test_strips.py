"""ECG strips of a recording read from ECG: one per episode (up to the cap), read again from the record a strip at a
time, small, and none for RR."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pytest

from cardiospike.data.ecg import ArraySignal, EcgSource
from cardiospike.data.synthetic import render_ecg, simulate_beats
from cardiospike.detector import ScoredRecording
from cardiospike.recording import FloatArray, Recording, measurement_errors
from cardiospike.report import render_report
from cardiospike.report.strips import (
    ANOMALOUS,
    BEAT,
    ERROR,
    MAX_STRIP_BYTES,
    MAX_STRIP_POINTS,
    MAX_STRIP_S,
    MAX_STRIPS,
    PAD_S,
    strips_of,
)
from cardiospike.summary import episodes_of
from tests.reports import chart_data

from .conftest import MODEL, SOURCE, simulated


@dataclass
class CountingSignal:
    """A signal that counts the samples read from it, to show that only the strips' stretches are read."""

    samples: FloatArray
    fs: float
    channel: str = "MLII"
    reads: list[tuple[int, int]] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return int(self.samples.size)

    def read(self, start: int, stop: int) -> FloatArray:
        self.reads.append((start, stop))
        return self.samples[start:stop].copy()


def ecg_scored(
    duration_s: float, runs: list[tuple[int, int]], fs: float = 250.0, seed: int = 5
) -> tuple[ScoredRecording, CountingSignal, np.ndarray]:
    """A simulated ECG, its beats as a recording scored with ``runs`` (first beat, beats) flagged, and its signal."""
    beats_s = simulate_beats(duration_s, heart_rate=75, seed=seed)
    x, peaks = render_ecg(beats_s, fs, 0, round(duration_s * fs), noise=0.02, seed=seed)
    rr = np.r_[0.0, np.diff(peaks) * 1000.0 / fs]
    rec = Recording(id="ecg", rr=rr, time=np.asarray(peaks * 1000.0 / fs, dtype=np.float64))
    flags = np.zeros(len(rec), dtype=bool)
    for first, n in runs:
        flags[first : first + n] = True
    proba = np.where(flags, 0.9, 0.1)
    scored = ScoredRecording(rec, proba, flags, measurement_errors(rec.rr), 0.5)
    return scored, CountingSignal(x, fs), peaks


def _strip_divs(html: str) -> list[str]:
    return re.findall(r'<div class="strip" [^>]*>', html)


def test_one_strip_per_episode_up_to_the_cap_each_within_its_size():
    runs = [(10 + 8 * k, 3) for k in range(MAX_STRIPS + 5)]
    scored, signal, peaks = ecg_scored(300, runs)
    episodes = episodes_of(scored)
    assert len(episodes) == MAX_STRIPS + 5
    html = render_report([scored], model=MODEL, source=SOURCE, ecg={"ecg": EcgSource(signal, peaks)})
    assert len(_strip_divs(html)) == MAX_STRIPS
    (chart,) = chart_data(html)
    assert chart["ecg"]["channel"] == "MLII"
    strips = chart["ecg"]["strips"]
    assert len(strips) == MAX_STRIPS
    assert "The strips of the first 20 of 25 episodes are shown; the other 5" in html
    for strip in strips:
        assert len(json.dumps(strip, separators=(",", ":"))) <= MAX_STRIP_BYTES
        assert len(strip["i"]) <= MAX_STRIP_POINTS
    # Each episode's table row links to its strip, up to the cap.
    assert 'href="#strip-1-20"' in html
    assert 'href="#strip-1-21"' not in html
    # Only the strips' stretches were read: never the whole record.
    longest = round((MAX_STRIP_S + 1) * signal.fs)
    assert len(signal.reads) == MAX_STRIPS
    assert all(stop - start <= longest for start, stop in signal.reads)


def test_a_strip_shows_the_episode_with_its_beats_and_the_seconds_around_it():
    scored, signal, peaks = ecg_scored(60, [(20, 4)])
    (episode,) = episodes_of(scored)
    ecg = EcgSource(signal, peaks)
    result = strips_of(scored, [episode], ecg)
    (strip,) = result.strips
    assert (result.fs, result.n_more, strip.cut, strip.number) == (250.0, 0, False, 1)
    data = strip.data
    start = peaks[19] - round(PAD_S * signal.fs)  # the episode's intervals start at the beat before its first
    assert signal.reads == [(start, peaks[23] + round(PAD_S * signal.fs) + 1)]
    assert data["span"] == [peaks[19] - start, peaks[23] - start]
    assert data["dt"] == 4.0
    assert data["t0"] == pytest.approx((start - peaks[0]) * 4.0)
    # Every beat of the strip is marked, at its sample, with its kind and RR.
    at = np.asarray(data["beats"]["i"]) + start
    assert set(peaks[20:24]) <= set(at.tolist())
    assert set(at.tolist()) <= set(peaks.tolist())
    kinds = dict(zip(at.tolist(), data["beats"]["kind"], strict=True))
    assert [kinds[p] for p in peaks[20:24]] == [ANOMALOUS] * 4
    assert kinds[peaks[19]] == BEAT
    np.testing.assert_allclose(data["beats"]["y"], signal.samples[at], atol=1e-3)
    stop = signal.reads[0][1]
    assert strip.decimated == (stop - start > MAX_STRIP_POINTS)
    assert len(data["i"]) == len(data["y"]) <= MAX_STRIP_POINTS


def test_a_long_episode_shows_its_start_and_says_so():
    scored, signal, peaks = ecg_scored(120, [(10, 60)])
    html = render_report([scored], model=MODEL, source=SOURCE, ecg={"ecg": EcgSource(signal, peaks)})
    (strip,) = chart_data(html)[0]["ecg"]["strips"]
    (start, stop) = signal.reads[0]
    assert stop - start == round(MAX_STRIP_S * signal.fs)
    assert strip["span"][1] == stop - 1 - start  # shaded to the strip's end
    assert "its first 20 s only" in html


def test_measurement_errors_and_missing_samples():
    scored, signal, peaks = ecg_scored(60, [(30, 3)])
    signal.samples[peaks[30] - 50 : peaks[30] - 10] = np.nan
    (strip,) = strips_of(scored, episodes_of(scored), EcgSource(signal, peaks)).strips
    assert None in strip.data["y"]  # a gap, not a line through missing samples
    json.dumps(strip.data, allow_nan=False)
    first, first_signal, first_peaks = ecg_scored(10, [(0, 2)])
    assert first.error[0]  # the first beat has no interval before it: RR 0
    (s,) = strips_of(first, episodes_of(first), EcgSource(first_signal, first_peaks)).strips
    assert s.data["beats"]["kind"][0] == ERROR
    assert s.data["span"][0] == s.data["beats"]["i"][0]  # from the first beat: there is none before it


def test_a_fast_record_is_decimated_to_the_strip_s_points():
    scored, signal, peaks = ecg_scored(60, [(20, 5)], fs=2000.0)
    (strip,) = strips_of(scored, episodes_of(scored), EcgSource(signal, peaks)).strips
    assert strip.decimated
    assert len(strip.data["i"]) <= MAX_STRIP_POINTS
    values = signal.samples[signal.reads[0][0] : signal.reads[0][1]]
    assert max(v for v in strip.data["y"] if v is not None) == pytest.approx(values.max(), abs=1e-3)  # peaks kept
    assert len(json.dumps(strip.data, separators=(",", ":"))) <= MAX_STRIP_BYTES


def test_an_ecg_of_other_beats_is_refused():
    scored, signal, peaks = ecg_scored(30, [(5, 2)])
    with pytest.raises(ValueError, match="beats"):
        strips_of(scored, episodes_of(scored), EcgSource(signal, peaks[:-1]))


def test_an_rr_recording_has_no_strips():
    html = render_report([simulated(900)], model=MODEL, source=SOURCE)
    assert not _strip_divs(html)
    assert 'class="strips"' not in html
    assert chart_data(html)[0]["ecg"] is None
    # Another recording's ECG is not drawn for it.
    html = render_report([simulated(900, id="b")], model=MODEL, source=SOURCE, ecg={"a": _any_ecg()})
    assert not _strip_divs(html)


def _any_ecg() -> EcgSource:
    return EcgSource(ArraySignal(np.zeros(1000), 250.0), np.arange(5, dtype=np.int64))
