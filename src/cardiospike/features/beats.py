"""The per-beat feature matrix the beat classifier learns from.

A labelled episode is a short spike in an otherwise steady stretch (one RR about 8% above the level around it
followed at once by one about 8% below), with a few beats of context on each side. So beside windows of RR and
its successive differences, the features describe local variability at several widths and where the nearest
spike-shaped step lies. Everything is relative to the local level (the median of the valid beats within
``level_half`` beats), so it does not depend on heart rate.

A beat's features depend only on the beats within :attr:`FeatureSpec.reach` of it: never on the recording's length
or on where the beat lies in it, apart from the true edges (a beat near the first or last beat sees less context,
and says how much less, up to the widest window). So a day-long recording is scored as its pieces are, and a live
stream's features are final once ``reach`` beats have followed a beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cardiospike.features.windows import (
    LOCAL_HALF,
    WindowSums,
    centred_median,
    distance_to_flags,
    local_outliers,
    step_before,
)
from cardiospike.recording import MODEL_RR_MAX_MS, MODEL_RR_MIN_MS, FloatArray, Recording, in_model_range

#: The name of the only feature set this version builds (``spike-context-v2`` and earlier read whole recordings).
FEATURE_SET = "local-context-v3"
#: Half-width (beats) of the rolling median every relative value divides by: 257 beats, two to four minutes, are
#: many more than a spike (so it does not move the level) and few enough to follow a day's changes of heart rate.
LEVEL_HALF = 128
#: Successive differences above this (relative to the level) count as "big" steps.
BIG_STEP = 0.05
#: Half-width of the widest fixed window of spike scores (``spike_max_13``, ``spikes_13_*``). A spike score also
#: reads the step after its beat, so these windows look one beat further ahead.
SPIKE_COUNT_HALF = 6


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature matrix is made of; stored in the model artifact so scoring rebuilds the same matrix.

    Attributes
    ----------
    half_window : int
        Beats on each side of the centre beat in the windows of RR and of its successive differences.
    stat_halves : tuple of int
        Half-widths of the windows of local statistics (mean, SDNN, RMSSD, share of big steps).
    spike_half : int
        Beats on each side in the window of spike scores.
    spike_thresholds : tuple of float
        Spike sizes (relative to the median RR) whose distance from each beat is a feature.
    rr_min, rr_max : float
        Beats outside this open range (ms) are masked: missing in every RR-derived feature. Defaults: the models'
        input range (:data:`~cardiospike.recording.MODEL_RR_MIN_MS`, :data:`~cardiospike.recording.MODEL_RR_MAX_MS`).
    local_tolerance : float or None
        Beats further than this (relative) from the median of the valid beats around them are masked too (see
        :func:`~cardiospike.features.windows.local_outliers`); None: no such mask.
    level_half : int
        Half-width (beats) of the centred rolling median of the valid beats that RR is divided by (the local level).
    distance_reach : int
        Distances to the last and the next spike or step are missing beyond this many beats (episodes are at most
        about 40 beats long).
    """

    def __post_init__(self) -> None:
        if list(self.stat_halves) != sorted(set(self.stat_halves)):
            raise ValueError(f"stat_halves must increase: {self.stat_halves}")
        for name in ("level_half", "distance_reach"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 beat, not {getattr(self, name)}")

    half_window: int = 8
    stat_halves: tuple[int, ...] = (2, 4, 8, 16)
    spike_half: int = 5
    spike_thresholds: tuple[float, ...] = (0.03, 0.05, 0.08)
    rr_min: float = MODEL_RR_MIN_MS
    rr_max: float = MODEL_RR_MAX_MS
    local_tolerance: float | None = 0.3
    level_half: int = LEVEL_HALF
    distance_reach: int = 32
    name: str = FEATURE_SET

    @property
    def window_reach(self) -> int:
        """How far (in beats) the feature windows look from their beat, either way (over the relative RR and steps
        they read): the padding that keeps recordings laid end to end apart, and the cap of the edge columns."""
        return max(self.half_window, *self.stat_halves, self.spike_half + 1, LOCAL_HALF, SPIKE_COUNT_HALF + 1)

    @property
    def reach(self) -> int:
        """The furthest (in beats) any feature looks from its beat, either way: a beat's features are a function of
        the beats within ``reach`` of it (and of whether the recording ends closer).

        A feature window (or a distance) reaches a beat whose relative RR and step read the level around it, whose
        median reads the beats around it, whose validity reads the local median of the beats around them.
        """
        return max(self.window_reach, self.distance_reach + 1) + self.level_half + LOCAL_HALF + 1

    def to_dict(self) -> dict[str, Any]:
        """The fields, and the :attr:`reach` they make (recorded for readers of a manifest)."""
        return {**asdict(self), "reach": self.reach}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """The feature set :meth:`to_dict` saved; ValueError for one this version cannot build."""
        data = dict(data)
        name = data.get("name", FEATURE_SET)
        if name != FEATURE_SET:
            raise ValueError(
                f"feature set {name!r} reads whole recordings (their length, a beat's position and the median RR), "
                f"so it scores long recordings wrongly; this version builds {FEATURE_SET!r}: retrain the model"
            )
        for key in ("stat_halves", "spike_thresholds"):
            if key in data:
                data[key] = tuple(data[key])
        reach = data.pop("reach", None)
        spec = cls(**data)
        if reach is not None and reach != spec.reach:
            raise ValueError(f"reach {reach} does not match the feature set, whose features reach {spec.reach} beats")
        return spec


def _offsets(half: int) -> range:
    return range(-half, half + 1)


def feature_names(spec: FeatureSpec) -> list[str]:
    """Column names of :func:`beat_features`, in order."""
    names = [f"r_{o:+d}" for o in _offsets(spec.half_window)]
    names += [f"d_{o:+d}" for o in _offsets(spec.half_window)]
    names += [f"dd_{o:+d}" for o in _offsets(3)]
    names += ["rr_ms", "level_rr", "beats_from_start", "beats_to_end", "valid_in_window", "valid"]
    for h in spec.stat_halves:
        names += [f"{s}_{2 * h + 1}" for s in ("mean", "sdnn", "deviation", "rmssd", "sdsd", "big_steps")]
    names += ["hr_relative"]
    names += [f"spike_{o:+d}" for o in _offsets(spec.spike_half)]
    names += [f"dip_{o:+d}" for o in _offsets(3)]
    names += ["spike_max_7", "spike_max_13"]
    for t in spec.spike_thresholds:
        names += [
            f"{what}_{t:g}"
            for what in ("since_spike", "until_spike", "nearest_spike", "since_up", "until_up", "since_down")
        ]
        names += [f"until_down_{t:g}", f"spikes_13_{t:g}"]
    return names


def beat_features(rr: FloatArray, spec: FeatureSpec, lengths: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """Feature matrix (n_beats, n_features), float32, NaN where a value is missing.

    ``rr`` holds one recording, or several laid end to end with ``lengths`` their numbers of beats: features never
    cross a recording's edge, and each recording's rows equal those it gets alone (up to the rounding of the window
    sums). Every beat gets a row, also at the edges and in recordings shorter than the windows.
    """
    rr = np.asarray(rr, dtype=np.float64)
    lengths = np.array([rr.size] if lengths is None else lengths, dtype=np.int64)
    if lengths.sum() != rr.size:
        raise ValueError(f"lengths add up to {lengths.sum()} beats, not the {rr.size} given")
    # Filled column by column, so each column is contiguous (writing a column of a row-major matrix touches a cache
    # line per value); the caller gets the (n_beats, n_features) view of it.
    out = np.empty((len(feature_names(spec)), rr.size), dtype=np.float32)
    if rr.size == 0:
        return out.T
    layout = _Padded(lengths, spec.window_reach)
    columns = _Columns(out, layout.real)

    r, levels = _relative_rr(layout, layout.spread(rr), spec)  # padding: NaN, outside the range like a missing beat
    d = step_before(r)
    columns.shifted(r, _offsets(spec.half_window))
    columns.shifted(d, _offsets(spec.half_window))
    columns.shifted(step_before(d), _offsets(3))
    columns.add(*levels)
    del levels
    _local_statistics(r, d, spec, columns)
    _spike_columns(d, layout, spec, columns)
    return columns.done()


# The columns are made in parts, each a function: a part's arrays are freed when it returns, so a long recording's
# features hold a few of them at once (each as long as the recording) beside the matrix itself.


def _relative_rr(layout: _Padded, x: FloatArray, spec: FeatureSpec) -> tuple[FloatArray, list[FloatArray]]:
    """RR relative to the local level (NaN where not valid), and the RR, level, edge and validity columns."""
    valid = in_model_range(x, spec.rr_min, spec.rr_max)
    if spec.local_tolerance is not None:
        valid &= ~local_outliers(np.where(valid, x, np.nan), spec.local_tolerance)
    level = layout.centred_median(np.where(valid, x, np.nan), spec.level_half)
    valid_f = valid.astype(np.float64)
    valid_near = WindowSums(valid_f, spec.half_window).totals(spec.half_window)[1]
    # Beats from either edge, capped where the widest window stops reaching past it: they say how much context a
    # beat near an edge lacks, and nothing about the recording's length.
    from_start, to_end = (np.minimum(p, spec.window_reach) for p in layout.positions())
    r = np.where(valid, x / level, np.nan)
    return r, [x, level, from_start, to_end, valid_near, valid_f]


def _local_statistics(r: FloatArray, d: FloatArray, spec: FeatureSpec, columns: _Columns) -> None:
    """Mean, SDNN, deviation, RMSSD, SD of steps and share of big steps over centred windows; relative heart rate."""
    big = np.where(np.isnan(d), np.nan, (np.abs(d) > BIG_STEP).astype(np.float64))
    widest = max(spec.stat_halves)
    r_sums, d_sums, big_sums = WindowSums(r, widest), WindowSums(d, widest), WindowSums(big, widest)
    with np.errstate(invalid="ignore", divide="ignore"):  # empty windows give NaN: missing, as intended
        for h in spec.stat_halves:
            count, total, squares = r_sums.sums(h)
            mean = total / count
            sdnn = np.sqrt(np.maximum(squares / count - mean**2, 0.0)) + np.where(count < 2, np.nan, 0.0)
            d_count, d_total, d_squares = d_sums.sums(h)
            d_mean = d_total / d_count
            rmssd = np.sqrt(d_squares / d_count)
            sdsd = np.sqrt(np.maximum(d_squares / d_count - d_mean**2, 0.0)) + np.where(d_count < 2, np.nan, 0.0)
            b_count, b_total = big_sums.totals(h)
            columns.add(mean, sdnn, r - mean, rmssd, sdsd, b_total / b_count)
        columns.add(1.0 / r)


def _spike_columns(d: FloatArray, layout: _Padded, spec: FeatureSpec, columns: _Columns) -> None:
    """Spike scores (the smaller of the rise into a beat and the fall out of it: up then down) and their maxima, and
    the distances to the nearest spikes, up-steps and down-steps of each size."""
    d_next = np.append(d[1:], np.nan)
    spike = np.fmin(d, -d_next)
    columns.shifted(spike, _offsets(spec.spike_half))
    columns.shifted(np.fmin(-d, d_next), _offsets(3))
    spike0 = np.where(np.isnan(spike), -1.0, spike)  # the padding holds -1 too: as past a recording's ends
    columns.add(columns.window_max(spike0, 3), columns.window_max(spike0, SPIKE_COUNT_HALF))
    d0 = np.where(np.isnan(d), 0.0, d)
    first, stop = layout.bounds()
    for t in spec.spike_thresholds:
        is_spike = spike0 > t
        since, until = distance_to_flags(is_spike, first, stop, spec.distance_reach)
        since_up, until_up = distance_to_flags(d0 > t, first, stop, spec.distance_reach)
        since_down, until_down = distance_to_flags(d0 < -t, first, stop, spec.distance_reach)
        spikes_near = WindowSums(is_spike.astype(np.float64), SPIKE_COUNT_HALF).totals(SPIKE_COUNT_HALF)[1]
        columns.add(since, until, np.fmin(since, until), since_up, until_up, since_down, until_down, spikes_near)


def features_for_recordings(recordings: Sequence[Recording], spec: FeatureSpec) -> np.ndarray:
    """The feature matrix of many recordings in one pass (rows in recording, then beat order)."""
    if not recordings:
        return np.empty((0, len(feature_names(spec))), dtype=np.float32)
    return beat_features(np.concatenate([rec.rr for rec in recordings]), spec, [len(rec) for rec in recordings])


class _Columns:
    """Fills the float32 feature matrix column by column, reading the padded arrays at the real beats' rows."""

    def __init__(self, out: np.ndarray, rows: np.ndarray) -> None:
        self.out, self.rows, self.at = out, rows, 0

    def add(self, *values: FloatArray) -> None:
        """Columns of values per (padded) beat."""
        for column in values:
            self.out[self.at] = column[self.rows]
            self.at += 1

    def shifted(self, values: FloatArray, offsets: range) -> None:
        """Columns ``values[i + o]`` for each offset: the padding is wider than any offset, so it gives NaN there."""
        for o in offsets:
            self.out[self.at] = values[self.rows + o]
            self.at += 1

    def window_max(self, values: FloatArray, half: int) -> FloatArray:
        """The maximum of each real beat's centred window of ``2 * half + 1`` values (a column per padded beat)."""
        out = np.full(values.size, np.nan)
        out[self.rows] = np.maximum.reduce([values[self.rows + o] for o in _offsets(half)])
        return out

    def done(self) -> np.ndarray:
        assert self.at == self.out.shape[0], "feature_names and beat_features disagree"
        return self.out.T


class _Padded:
    """Recordings laid end to end with ``pad`` missing beats before, between and after them.

    Windows of at most ``pad`` beats then never see a neighbouring recording, so every window computation runs
    once over all recordings; the wider rolling median is laid out with a wider padding of its own.
    """

    def __init__(self, lengths: np.ndarray, pad: int) -> None:
        self.lengths, self.pad = lengths, pad
        #: Index of each recording's first beat among the real beats (without the padding).
        self.firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        # Recording k starts after the beats before it and k + 1 paddings: pad, pad + len0 + pad, ...
        self.starts = self.firsts + pad * np.arange(1, lengths.size + 1, dtype=np.int64)
        self.size = int(lengths.sum() + pad * (lengths.size + 1))
        self.segment = np.repeat(np.arange(lengths.size), lengths)
        #: The padded position of each real beat.
        self.real = np.repeat(self.starts - self.firsts, lengths) + np.arange(int(lengths.sum()))

    def spread(self, values: FloatArray) -> FloatArray:
        out = np.full(self.size, np.nan)
        out[self.real] = values
        return out

    def per_beat(self, per_recording: FloatArray) -> FloatArray:
        """A value per recording, at each of its beats (NaN in the padding)."""
        return self.spread(per_recording[self.segment])

    def centred_median(self, x: FloatArray, half: int) -> FloatArray:
        """The median of the non-missing values within ``half`` beats of each beat, in its recording (NaN where there
        are none), at every position (NaN in the padding)."""
        wide = _Padded(self.lengths, half)
        return self.spread(centred_median(wide.spread(x[self.real]), half)[wide.real])

    def positions(self) -> tuple[FloatArray, FloatArray]:
        """Each beat's distance (in beats) from its recording's first beat and from its last."""
        from_start = np.arange(self.size, dtype=np.float64) - self.per_beat(self.starts.astype(np.float64))
        return from_start, self.per_beat(self.lengths.astype(np.float64)) - 1 - from_start

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """For every position, the first position of its recording and one past its last (padding: its own)."""
        first = np.arange(self.size)
        stop = first + 1
        first[self.real] = self.starts[self.segment]
        stop[self.real] = (self.starts + self.lengths)[self.segment]
        return first, stop
