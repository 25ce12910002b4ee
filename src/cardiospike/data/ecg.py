"""Heart beats detected in an ECG signal, piece by piece, and the RR recording they make.

Beats are detected by ``sleepecg.detect_heartbeats`` (Pan and Tompkins' adaptive thresholds, in C; chosen by
measurement against NeuroKit2's ``ecg_peaks``: ``benchmarks/results/ecg.md``). A record is read and detected in
pieces of :data:`CHUNK_S` seconds, each with :data:`OVERLAP_S` seconds of the signal on either side, so that memory
holds a piece at a time whatever the record's length: the detector's filter and its thresholds have settled by the
time a piece's own samples begin, and a beat is taken from the piece it lies in, once (a beat found again within
:data:`REFRACTORY_S` of the last one taken, at a piece's edge, is the same beat).

Each beat's signal quality is the correlation of its QRS complex (:data:`QRS_S` on either side of it, in the
band-passed signal) with the mean complex of the :data:`TEMPLATE_BEATS` beats around it: a beat in noise, or a
detection that is no beat, matches its neighbours poorly. A beat below :data:`QUALITY_MIN`, or whose complex touches
missing samples, is doubtful, and so is each RR interval that ends or starts at a doubtful beat: it is kept and
flagged as a measurement error (:attr:`cardiospike.recording.Recording.doubtful`), never dropped or altered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from cardiospike.data.errors import RecordingFormatError
from cardiospike.recording import FloatArray, Recording

#: What to install where the ``ecg`` extra is missing.
ECG_EXTRA = "pip install 'cardiospike[ecg]'"
#: Seconds of signal detected at once, and of the signal read beyond either end of each piece.
CHUNK_S = 600.0
OVERLAP_S = 60.0
#: Two detections closer than this (s) are one beat (sleepecg's own refractory period is 0.2 s).
REFRACTORY_S = 0.2
#: The half-width (s) of the QRS complex that quality compares, and how many beats make a beat's template.
QRS_S = 0.08
TEMPLATE_BEATS = 61
#: Beats whose complex correlates less than this with their template are doubtful.
QUALITY_MIN = 0.5
#: The sampling rates read (Hz): below, no QRS complex is resolved; above, no ECG is recorded.
MIN_SAMPLING_RATE = 50.0
MAX_SAMPLING_RATE = 20_000.0
#: The most samples of a record that are read (a week at 1,000 Hz; sleepecg detects about 34 million a second on one
#: core, benchmarks/results/ecg.md).
MAX_SAMPLES = 7 * 24 * 3600 * 1000

Progress = Callable[[int, int], None]


class Signal(Protocol):
    """One channel of an ECG record, read piece by piece.

    Attributes
    ----------
    fs : float
        Sampling rate (Hz).
    n_samples : int
        Samples of the channel.
    channel : str
        The channel's name (``"MLII"``, ``"ECG"``), for messages.
    """

    @property
    def fs(self) -> float: ...

    @property
    def n_samples(self) -> int: ...

    @property
    def channel(self) -> str: ...

    def read(self, start: int, stop: int) -> FloatArray:
        """Samples ``start`` to ``stop`` (physical units; missing samples NaN)."""
        ...


@dataclass(frozen=True)
class ArraySignal:
    """A channel held in memory (or memory-mapped): a :class:`Signal` of an array."""

    samples: NDArray[np.number]
    fs: float
    channel: str = "ECG"

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    def read(self, start: int, stop: int) -> FloatArray:
        return np.asarray(self.samples[start:stop], dtype=np.float64)


@dataclass(frozen=True)
class Beats:
    """The beats detected in a channel.

    Attributes
    ----------
    samples : ndarray of int64
        Each beat's sample (increasing).
    quality : ndarray of float64
        Each beat's signal quality: the correlation of its QRS complex with its neighbours' (NaN where it touches
        missing samples).
    """

    samples: NDArray[np.int64]
    quality: FloatArray

    @property
    def doubtful(self) -> NDArray[np.bool_]:
        """Beats the detector is unsure of: a quality below :data:`QUALITY_MIN`, or unknown."""
        return ~(self.quality >= QUALITY_MIN)


def check_sampling_rate(fs: object, source: str, field: str = "sampling_rate") -> float:
    """``fs`` as a sampling rate in Hz, or a RecordingFormatError naming ``field``."""
    try:
        value = float(fs)  # type: ignore[arg-type,unused-ignore]
    except (TypeError, ValueError):
        raise RecordingFormatError(source, "the sampling rate is not a number", field=field) from None
    if not MIN_SAMPLING_RATE <= value <= MAX_SAMPLING_RATE:  # NaN fails both comparisons
        raise RecordingFormatError(
            source,
            f"a sampling rate of {value:g} Hz; ECG is read from {MIN_SAMPLING_RATE:g} to {MAX_SAMPLING_RATE:g} Hz",
            field=field,
        )
    return value


def _detector() -> Callable[[FloatArray, float], NDArray[np.int64]]:
    try:
        from sleepecg import detect_heartbeats
    except ImportError:
        raise ImportError(f"detecting heart beats in ECG needs the 'ecg' extra: {ECG_EXTRA}") from None
    return detect_heartbeats


def detect_beats(
    signal: Signal,
    source: str,
    *,
    chunk_s: float = CHUNK_S,
    overlap_s: float = OVERLAP_S,
    progress: Progress | None = None,
) -> Beats:
    """Detect the heart beats of ``signal`` piece by piece (see the module's description).

    Parameters
    ----------
    signal : Signal
        The channel.
    source : str
        The file, for messages.
    chunk_s, overlap_s : float
        Seconds detected at once, and read beyond either end of each piece.
    progress : callable, optional
        Called with the samples done and the samples in all after each piece.

    Raises
    ------
    RecordingFormatError
        A signal that is flat or missing throughout, or in which no two beats are found.
    """
    detect = _detector()
    from scipy.signal import butter, sosfiltfilt  # type: ignore[import-untyped,unused-ignore]

    fs, n = signal.fs, signal.n_samples
    if n > MAX_SAMPLES:
        raise RecordingFormatError(source, f"{n} samples, more than the limit of {MAX_SAMPLES}", field=signal.channel)
    if n < 2 * fs:
        raise RecordingFormatError(source, f"{n} samples: less than 2 s of signal", field=signal.channel)
    chunk, overlap = max(int(chunk_s * fs), 1), int(overlap_s * fs)
    refractory, half = int(REFRACTORY_S * fs), round(QRS_S * fs)
    # The band of the detector's own filter: quality compares what the detector saw, free of wander and mains hum.
    sos = butter(2, (5.0, min(30.0, 0.45 * fs)), btype="bandpass", output="sos", fs=fs)
    found: list[NDArray[np.int64]] = []
    qualities: list[FloatArray] = []
    last = -(10**18)
    seen_signal = seen_finite = False
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        lo, hi = max(0, start - overlap), min(n, stop + overlap)
        x = signal.read(lo, hi)
        missing = ~np.isfinite(x)
        seen_finite = seen_finite or not missing.all()
        if missing.all():
            _report(progress, stop, n)
            continue
        if missing.any():  # the detector's filter spreads a NaN over the whole piece: missing samples read as level
            x = np.where(missing, np.median(x[~missing]), x)
        if np.ptp(x) == 0:
            _report(progress, stop, n)
            continue
        seen_signal = True
        beats = np.asarray(detect(x, fs), dtype=np.int64)
        quality = _quality(sosfiltfilt(sos, x), missing, beats, half)
        beats += lo
        # A beat belongs to the piece it lies in; one found again at the edge (within the refractory period of the
        # last beat taken, a sample or two off) is the same beat.
        keep = (beats >= start - refractory) & (beats < stop) & (beats > last + refractory)
        found.append(beats[keep])
        qualities.append(quality[keep])
        if found[-1].size:
            last = int(found[-1][-1])
        _report(progress, stop, n)
    if not seen_signal:
        problem = "the signal is flat" if seen_finite else "the signal is missing (NaN) throughout"
        raise RecordingFormatError(source, f"{problem}: no heart beat to detect", field=signal.channel)
    samples = np.concatenate(found)  # a piece with signal was seen: found has its entry
    if samples.size < 2:
        raise RecordingFormatError(source, "fewer than two heart beats found in the signal", field=signal.channel)
    return Beats(samples=samples, quality=np.concatenate(qualities))


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _quality(filtered: FloatArray, missing: NDArray[np.bool_], beats: NDArray[np.int64], half: int) -> FloatArray:
    """Each beat's correlation with the mean QRS complex of the beats around it (NaN where it touches missing
    samples).

    Vectorised over beats: the complexes are one (beats, samples) array, the templates a running mean over it.
    """
    if beats.size == 0:
        return np.zeros(0)
    offsets = np.arange(-half, half + 1)
    at = np.clip(beats[:, None] + offsets[None, :], 0, filtered.size - 1)
    complexes = filtered[at]
    # The mean complex of the beats around (running sums: linear in beats): noise, zero on average, fades from it,
    # so a stretch of noise does not make its own template.
    k = min(TEMPLATE_BEATS, beats.size)
    before, after = k // 2, k - 1 - k // 2
    sums = np.concatenate([np.zeros((1, offsets.size)), np.cumsum(complexes, axis=0)])
    i = np.arange(beats.size)
    lo, hi = np.maximum(i - before, 0), np.minimum(i + after + 1, beats.size)
    template = (sums[hi] - sums[lo]) / (hi - lo)[:, None]
    a = complexes - complexes.mean(axis=1, keepdims=True)
    b = template - template.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    edge = (beats - half < 0) | (beats + half >= filtered.size)
    touched = missing[at].any(axis=1) | edge
    return np.where(touched | ~np.isfinite(r), np.nan, r)


def ecg_recording(beats: Beats, fs: float, id: str) -> tuple[Recording, dict[str, NDArray[np.generic]]]:
    """The RR recording of detected beats, and the columns written beside its scores (``sample``, ``quality``).

    RR (ms) is the time since the beat before; the first beat has none, and its RR is 0, as devices write a missing
    interval (a measurement error). An interval is doubtful where either of its beats is.
    """
    samples = beats.samples
    ms_per_sample = 1000.0 / fs
    time = (samples * ms_per_sample).astype(np.float64)
    rr = np.empty(samples.size)
    rr[0] = 0.0
    rr[1:] = np.diff(samples) * ms_per_sample
    own = beats.doubtful
    doubtful = own.copy()
    doubtful[1:] |= own[:-1]
    recording = Recording(id=id, rr=rr, time=time, doubtful=doubtful)
    return recording, {"sample": samples, "quality": np.round(beats.quality, 3)}


@dataclass(frozen=True)
class EcgSource:
    """The ECG a recording's beats were detected in: its channel, to read stretches of again, and each beat's sample.

    The readers keep one for each recording read from ECG (:attr:`cardiospike.data.formats.Recordings.ecg`), so that
    the report can draw the signal around an episode. A record read from its file (WFDB, EDF, a ``.npy`` mapped in
    memory) is read again there, only the stretches asked for: nothing of the signal is held meanwhile.

    Attributes
    ----------
    signal : Signal
        The channel the beats were detected in.
    beats : ndarray of int64
        Each beat's sample, one per beat of the recording (increasing).
    """

    signal: Signal
    beats: NDArray[np.int64]

    @property
    def fs(self) -> float:
        """Sampling rate (Hz)."""
        return self.signal.fs

    @property
    def channel(self) -> str:
        """The channel's name."""
        return self.signal.channel
