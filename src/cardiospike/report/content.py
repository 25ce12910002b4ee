"""What the report shows: the model and input it names, and for each scored recording its numbers and chart data.

Everything is computed here, with numpy, so that the template only lays it out and the page's script only hands the
chart data to Plotly. Times are shown from a recording's first beat, as in the web app.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cardiospike.arrays import flag_runs
from cardiospike.artifact import sha256_file
from cardiospike.data.ecg import EcgSource
from cardiospike.detector import Detector, ScoredRecording
from cardiospike.metrics import flag_counts, precision_recall_f1
from cardiospike.recording import FloatArray, mostly_errors
from cardiospike.report.decimate import BUCKETS, MAX_LINE_POINTS, decimated_line, json_numbers
from cardiospike.report.strips import EcgStrips, strips_of
from cardiospike.summary import Episode, HRVSummary, episodes_of, hrv_summary

#: Runs of measurement errors listed in a recording's section; the chart marks every one of them all the same.
MAX_ERROR_RUNS = 200
#: Beyond this span (ms) dates lose their millisecond and the chart's time axis is in seconds instead.
MAX_DATE_SPAN_MS = 1e13
#: Episodes are shaded half a beat (at 75 beats per minute) beyond their first and last beats, so that a one-beat
#: episode shows too (as in the web app).
EPISODE_PAD_MS = 400.0
#: Height of the strip under the RR where a chart draws the reference labels, as a share of the RR range shown.
REFERENCE_BAND = 0.07


@dataclass(frozen=True)
class ModelInfo:
    """The model a report names: its version, decision threshold, cross-validated per-beat F1 and the RR range
    (ms) outside which it flags beats as measurement errors."""

    version: str
    threshold: float
    cv_f1: float | None
    rr_range: tuple[float, float]

    @classmethod
    def of(cls, detector: Detector) -> ModelInfo:
        artifact = detector.artifact
        return cls(detector.model_version, detector.threshold, artifact.cv_f1, artifact.rr_range)


@dataclass(frozen=True)
class SourceInfo:
    """The input a report names: the file's name (its last path part), size and SHA-256."""

    name: str
    size: int
    sha256: str

    @classmethod
    def of_bytes(cls, name: str, content: bytes) -> SourceInfo:
        return cls(Path(name).name or name, len(content), hashlib.sha256(content).hexdigest())

    @classmethod
    def of_file(cls, path: str | os.PathLike[str]) -> SourceInfo:
        return cls(Path(path).name, Path(path).stat().st_size, sha256_file(path))


@dataclass(frozen=True)
class ErrorRun:
    """Consecutive measurement errors: the first beat (numbered from 1), times from the first beat and RR range."""

    first_beat: int
    n_beats: int
    start_ms: float
    end_ms: float
    rr_min: float
    rr_max: float


@dataclass(frozen=True)
class Reference:
    """A recording's reference labels (those of its file) and the model's flags against them, beat by beat.

    Precision, recall and F1 are the competition's (:mod:`cardiospike.metrics`): F1 is 1 where nothing is labelled
    and nothing flagged. ``n_missed`` labelled beats are not flagged; ``n_false`` flagged beats are not labelled.
    """

    n_labelled: int
    n_episodes: int
    precision: float
    recall: float
    f1: float
    n_missed: int
    n_false: int

    @classmethod
    def of(cls, labels: NDArray[np.integer], flags: NDArray[np.bool_]) -> Reference:
        tp, fp, fn = flag_counts(labels, flags)
        precision, recall, f1 = precision_recall_f1(tp, fp, fn)
        return cls(
            n_labelled=int(np.count_nonzero(labels)),
            n_episodes=len(flag_runs(labels)[0]),
            precision=float(precision),
            recall=float(recall),
            f1=float(f1),
            n_missed=fn,
            n_false=fp,
        )


@dataclass(frozen=True)
class Section:
    """One recording's part of the report (times in ms from its first beat)."""

    number: int
    id: str
    n_beats: int
    duration_ms: float
    n_anomalous: int
    episodes: list[Episode]
    hrv: HRVSummary
    n_errors: int
    error_runs: list[ErrorRun]
    n_error_runs: int
    line_points: int
    chart: dict[str, Any]
    reference: Reference | None = None
    warnings: tuple[str, ...] = ()
    ecg: EcgStrips | None = None

    @property
    def anomaly_share(self) -> float:
        return self.n_anomalous / self.n_beats if self.n_beats else 0.0

    @property
    def error_share(self) -> float:
        return self.n_errors / self.n_beats if self.n_beats else 0.0

    @property
    def decimated(self) -> bool:
        return self.chart["decimated"]


def section_of(scored: ScoredRecording, number: int, ecg: EcgSource | None = None) -> Section:
    """The section of one scored recording (``number`` counts sections from 1); with the ECG its beats were
    detected in, the ECG strips of its first episodes (:mod:`cardiospike.report.strips`)."""
    rec = scored.recording
    t0 = float(rec.time[0]) if len(rec) else 0.0
    episodes = [_shifted(e, t0) for e in episodes_of(scored)]
    starts, stops = flag_runs(scored.error)
    error_runs = [
        ErrorRun(
            first_beat=s + 1,
            n_beats=t - s,
            start_ms=float(rec.time[s] - t0),
            end_ms=float(rec.time[t - 1] - t0),
            rr_min=float(rec.rr[s:t].min()),
            rr_max=float(rec.rr[s:t].max()),
        )
        for s, t in zip(starts[:MAX_ERROR_RUNS].tolist(), stops[:MAX_ERROR_RUNS].tolist(), strict=True)
    ]
    chart = chart_data(scored, episodes)
    strips = strips_of(scored, episodes, ecg) if ecg is not None else None
    chart["ecg"] = (
        {"channel": strips.channel, "strips": [s.data for s in strips.strips]} if strips is not None else None
    )
    labels = rec.labels
    return Section(
        number=number,
        id=rec.id,
        n_beats=len(rec),
        duration_ms=float(rec.time[-1] - t0) if len(rec) else 0.0,
        n_anomalous=int(scored.is_anomaly.sum()),
        episodes=episodes,
        hrv=hrv_summary(scored),
        n_errors=int(scored.error.sum()),
        error_runs=error_runs,
        n_error_runs=len(starts),
        line_points=sum(v is not None for v in chart["line"]["y"]),
        chart=chart,
        reference=Reference.of(labels, scored.is_anomaly) if labels is not None else None,
        warnings=warnings_of(scored),
        ecg=strips,
    )


def warnings_of(scored: ScoredRecording) -> tuple[str, ...]:
    """What a reader of the recording's numbers must know first: the commands' warning of a recording whose beats
    are mostly measurement errors (probably read in the wrong unit or column), whose HRV describes the few left."""
    rec = scored.recording
    n_errors = int(scored.error.sum())
    if not mostly_errors(n_errors, len(rec)):
        return ()
    other = "ms" if rec.unit == "s" else "s"
    return (
        f"{n_errors:,} of {len(rec):,} beats ({n_errors / len(rec):.0%}) are measurement errors (RR outside the "
        f"measurement range): is RR in another unit ({other}) or another column? The HRV summary describes only "
        "the beats left.",
    )


def chart_data(scored: ScoredRecording, episodes: list[Episode]) -> dict[str, Any]:
    """The data of a recording's RR chart, ready for JSON: the line (decimated where long), markers, episodes.

    ``episodes`` have times from the first beat. The chart's y range covers the valid beats; measurement errors
    (RR of 40 or 4,000 ms would flatten the rhythm to a line) are drawn just inside its edge, their RR in the hover.
    """
    rec = scored.recording
    t0 = float(rec.time[0]) if len(rec) else 0.0
    since = rec.time - t0
    date_axis = bool(since.size == 0 or since[-1] < MAX_DATE_SPAN_MS)
    # Milliseconds from the first beat, which the page draws on a date axis so that they read as a clock; beyond
    # dates' range, seconds on a plain axis.
    x = since if date_axis else since / 1000.0
    scale = 1.0 if date_axis else 1 / 1000.0
    valid = ~scored.error
    lo, hi = _y_range(rec.rr, valid)
    labels = rec.labels
    # The reference labels get a strip of their own under the RR, so that no beat's mark covers them.
    band = REFERENCE_BAND * (hi - lo) if labels is not None else 0.0
    inset = 0.015 * (hi - lo)
    shown = np.clip(rec.rr, lo + inset, hi - inset)
    decimated = int(valid.sum()) > MAX_LINE_POINTS
    if decimated:
        line_x, line_y = decimated_line(x[valid], rec.rr[valid], BUCKETS)
        line = {"x": json_numbers(line_x, 1), "y": json_numbers(line_y, 1)}
    else:
        # Gaps at measurement errors: the line joins only real beats; the errors have their own markers.
        line = {
            "x": json_numbers(x, 1),
            "y": json_numbers(np.where(valid, rec.rr, np.nan), 1),
            "p": json_numbers(scored.proba, 3),
        }
    flagged = np.flatnonzero(scored.is_anomaly)
    errors = np.flatnonzero(scored.error)
    pad = EPISODE_PAD_MS * scale
    reference = None
    if labels is not None:
        labelled = labels.astype(bool)
        starts, stops = flag_runs(labelled)
        missed = np.flatnonzero(labelled & ~scored.is_anomaly)
        false = np.flatnonzero(~labelled & scored.is_anomaly)
        reference = {
            # Runs of labelled beats, widened as the episodes are, drawn in the strip `band` (RR units) of the chart.
            "runs": [
                [round(float(x[a]) - pad, 1), round(float(x[b - 1]) + pad, 1)]
                for a, b in zip(starts.tolist(), stops.tolist(), strict=True)
            ],
            "band": [round(lo - band, 1), round(lo, 1)],
            "missed": {
                "x": json_numbers(x[missed], 1),
                "y": json_numbers(shown[missed], 1),
                "rr": json_numbers(rec.rr[missed], 1),
            },
            "false": {
                "x": json_numbers(x[false], 1),
                "y": json_numbers(shown[false], 1),
                "rr": json_numbers(rec.rr[false], 1),
            },
        }
    return {
        "date_axis": date_axis,
        "decimated": decimated,
        "buckets": BUCKETS,
        "n_beats": len(rec),
        "y_range": [round(lo - band, 1), round(hi, 1)],
        "reference": reference,
        "line": line,
        "anomalies": {
            "x": json_numbers(x[flagged], 1),
            "y": json_numbers(shown[flagged], 1),
            "p": json_numbers(scored.proba[flagged], 3),
            "rr": json_numbers(rec.rr[flagged], 1),
        },
        "errors": {
            "x": json_numbers(x[errors], 1),
            "y": json_numbers(shown[errors], 1),
            "rr": json_numbers(rec.rr[errors], 1),
        },
        "episodes": [[round(e.start_ms * scale - pad, 1), round(e.end_ms * scale + pad, 1)] for e in episodes],
    }


def file_stem(text: str, limit: int = 80) -> str:
    """``text`` as a safe file name part: letters, digits, ``.``, ``_`` and ``-`` only (for downloaded files)."""
    return re.sub(r"[^\w.-]+", "_", text, flags=re.ASCII).strip("._")[:limit] or "recording"


def _shifted(episode: Episode, t0: float) -> Episode:
    return Episode(
        episode.start, episode.end, episode.start_ms - t0, episode.end_ms - t0, episode.n_beats, episode.max_proba
    )


def _y_range(rr: FloatArray, valid: NDArray[np.bool_]) -> tuple[float, float]:
    """The RR range drawn: the valid beats' with a margin (all beats' where none is valid)."""
    values = rr[valid] if valid.any() else rr
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    pad = 0.08 * (hi - lo) + 15.0
    return lo - pad, hi + pad
