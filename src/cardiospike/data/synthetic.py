"""Seeded synthetic recordings with anomaly episodes shaped like the labelled ones, for tests and demos.

They are synthetic: a steady sinus rhythm with breathing-related variability, short "spike" episodes (one RR
about 8% above the local level followed at once by one about 8% below, with three beats of context labelled on
each side) and a few out-of-range measurement errors. No patient data is involved.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cardiospike.recording import FloatArray, Recording, time_from_rr

#: The demo recording's seed and length (``cardiospike demo``'s defaults), which the shipped sample file holds too.
DEMO_SEED = 7
DEMO_BEATS = 1200


def sample_path() -> Path:
    """The sample file shipped in the package: the demo recording (seed :data:`DEMO_SEED`, :data:`DEMO_BEATS`
    beats) in the competition CSV format ``id,time,x,y``, ``y`` the simulation's labels, exactly as
    ``cardiospike demo -o FILE`` writes it (a test keeps the two equal).

    It is synthetic: no patient's data. Read it with ``cardiospike.read_recordings(cardiospike.sample_path())``.
    """
    return Path(str(files("cardiospike") / "data" / "sample.csv"))


def simulate_recording(
    n_beats: int = 600,
    *,
    seed: int = 0,
    mean_rr: float = 800.0,
    episodes_per_1000: float = 10.0,
    spike: float = 0.08,
    error_rate: float = 0.004,
    id: str | None = None,
) -> Recording:
    """Simulate one labelled RR recording.

    Parameters
    ----------
    n_beats : int
        Number of beats.
    seed : int
        Seed of the random generator: the same seed gives the same recording.
    mean_rr : float
        Mean RR interval in ms.
    episodes_per_1000 : float
        Expected number of anomaly episodes per 1,000 beats.
    spike : float
        Relative size of the up and down steps of an episode.
    error_rate : float
        Share of beats replaced by out-of-range measurement errors.
    id : str, optional
        Recording id (default ``synthetic-<seed>``).
    """
    if n_beats < 1:
        raise ValueError("n_beats must be at least 1")
    rng = np.random.default_rng(seed)
    i = np.arange(n_beats)
    breathing = 0.025 * np.sin(2 * np.pi * i / rng.uniform(3.5, 5.5) + rng.uniform(0, 2 * np.pi))
    drift = 0.04 * np.sin(2 * np.pi * i / rng.uniform(150, 400) + rng.uniform(0, 2 * np.pi))
    rr = mean_rr * (1 + breathing + drift + rng.normal(0, 0.006, n_beats))
    labels = np.zeros(n_beats, dtype=np.int8)

    # Episodes sit on a jittered grid so that they never overlap: each spans the spike and 3 beats either side.
    n_episodes = rng.poisson(episodes_per_1000 * n_beats / 1000)
    slot = 40
    slots = np.arange(8, n_beats - slot, slot)
    if n_episodes and slots.size:
        starts = rng.choice(slots, size=min(n_episodes, slots.size), replace=False) + rng.integers(0, 20)
        starts = starts[starts + 6 < n_beats]
        rr[starts] *= 1 + spike * rng.uniform(0.8, 1.3, starts.size)
        rr[starts + 1] *= 1 - spike * rng.uniform(0.8, 1.3, starts.size)
        span = starts[:, None] + np.arange(-3, 5)[None, :]
        labels[span.ravel()] = 1

    errors = rng.random(n_beats) < error_rate
    errors &= labels == 0
    rr[errors] = np.where(rng.random(errors.sum()) < 0.5, rng.uniform(40, 250), rng.uniform(2100, 4000))
    rr = np.round(rr)
    return Recording(id=id or f"synthetic-{seed}", rr=rr, time=time_from_rr(rr), labels=labels)


def simulate_recordings(n: int, *, n_beats: int = 600, seed: int = 0) -> list[Recording]:
    """Simulate ``n`` recordings with seeds ``seed, seed + 1, ...`` and varied heart rates."""
    rng = np.random.default_rng(seed)
    rates = rng.uniform(600, 1000, n)
    return [simulate_recording(n_beats, seed=seed + k, mean_rr=float(rates[k])) for k in range(n)]


#: The waves of one simulated heart beat: (offset from the R peak in s, width in s, amplitude in mV) of P, Q, R, S
#: and T, Gaussians as in McSharry's ECGSYN, fixed in time (a beat at 150 per minute overlaps the next one's P).
_WAVES = np.array(
    [
        (-0.20, 0.025, 0.15),
        (-0.035, 0.010, -0.12),
        (0.0, 0.011, 1.20),
        (0.035, 0.012, -0.25),
        (0.25, 0.045, 0.30),
    ]
)
#: How far a beat's waves reach around its R peak (s).
_BEAT_SPAN = (-0.30, 0.45)


def simulate_beats(duration_s: float, *, heart_rate: float = 70.0, seed: int = 0) -> FloatArray:
    """The R-peak times (s) of a simulated sinus rhythm of ``duration_s`` seconds: breathing-related variability and
    a slow drift around ``heart_rate`` beats per minute, the first beat after half a second."""
    if not (duration_s > 0 and 10.0 <= heart_rate <= 300.0):
        raise ValueError("duration_s must be positive and heart_rate from 10 to 300")
    rng = np.random.default_rng(seed)
    mean_rr = 60.0 / heart_rate
    n = int(duration_s / mean_rr * 1.2) + 2
    i = np.arange(n)
    breathing = 0.03 * np.sin(2 * np.pi * i / rng.uniform(3.5, 5.5) + rng.uniform(0, 2 * np.pi))
    drift = 0.04 * np.sin(2 * np.pi * i / rng.uniform(150, 400) + rng.uniform(0, 2 * np.pi))
    rr = mean_rr * (1 + breathing + drift + rng.normal(0, 0.006, n))
    times = 0.5 + np.cumsum(rr) - rr[0]
    return times[times < duration_s + _BEAT_SPAN[0]]


def render_ecg(
    beats_s: FloatArray, fs: float, start: int, stop: int, *, noise: float = 0.0, seed: int = 0
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Samples ``start`` to ``stop`` of a simulated ECG (mV) with R peaks at ``beats_s``, and the R peaks' samples.

    ``noise`` is the standard deviation (mV) of white noise, with a mains hum of half and a baseline wander of twice
    that amplitude. Rendering a long record piece by piece gives the same samples (bar the noise, seeded per piece):
    each beat's waves are added wherever they reach into the piece.
    """
    peaks = np.round(np.asarray(beats_s) * fs).astype(np.int64)
    lo, hi = int(np.floor(_BEAT_SPAN[0] * fs)), int(np.ceil(_BEAT_SPAN[1] * fs))
    offsets = np.arange(lo, hi + 1)
    shape = (_WAVES[:, 2, None] * np.exp(-0.5 * ((offsets / fs - _WAVES[:, 0, None]) / _WAVES[:, 1, None]) ** 2)).sum(0)
    near = peaks[(peaks + hi >= start) & (peaks + lo < stop)]
    at = (near[:, None] + offsets[None, :] - start).ravel()
    inside = (at >= 0) & (at < stop - start)
    weights = np.broadcast_to(shape, (near.size, offsets.size)).ravel()[inside]
    signal = np.bincount(at[inside], weights=weights, minlength=stop - start).astype(np.float64)
    if noise > 0:
        rng = np.random.default_rng(seed)
        t = np.arange(start, stop) / fs
        signal += rng.normal(0.0, noise, stop - start)
        signal += 0.5 * noise * np.sin(2 * np.pi * 50.0 * t) + 2.0 * noise * np.sin(2 * np.pi * 0.25 * t)
    in_piece = (peaks >= start) & (peaks < stop)
    return signal, peaks[in_piece]


def simulate_ecg(
    duration_s: float, *, fs: float = 250.0, heart_rate: float = 70.0, noise: float = 0.0, seed: int = 0
) -> tuple[FloatArray, NDArray[np.int64]]:
    """A simulated ECG (mV) of ``duration_s`` seconds at ``fs`` Hz and the sample of each R peak.

    A sinus rhythm (:func:`simulate_beats`) of beats made of Gaussian waves (:func:`render_ecg`, whose ``noise``
    this is). Synthetic: no patient's data.
    """
    beats = simulate_beats(duration_s, heart_rate=heart_rate, seed=seed)
    return render_ecg(beats, fs, 0, round(duration_s * fs), noise=noise, seed=seed)
