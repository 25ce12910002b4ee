"""Summaries of a scored recording: its anomaly episodes and time-domain heart rate variability (HRV).

The HRV statistics are a few lines of vectorised numpy rather than a call into NeuroKit2 or hrv-analysis: they
need only means and successive differences over a validity mask, and those libraries would pull scipy, matplotlib
and more into every install (the service included) for four numbers. Written here, they also follow this package's
rule for measurement errors exactly: such beats are left out, and so is every successive difference that touches one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cardiospike.detector import ScoredRecording
from cardiospike.episodes import Episode, runs_of_flags
from cardiospike.recording import FloatArray, Recording

#: Successive RR differences larger than this (ms) count towards pNN50.
NN50_MS = 50.0


def episodes_of(recording: ScoredRecording | Recording) -> list[Episode]:
    """Anomaly episodes, with their times: those a detector found, or those doctors labelled.

    Of a scored recording, its runs of flagged beats and their peak probability; of a labelled recording, its runs
    of beats labelled 1 (peak probability 1). ValueError for a recording without labels.
    """
    if isinstance(recording, ScoredRecording):
        return runs_of_flags(recording.is_anomaly, recording.recording.time, recording.proba)
    if recording.labels is None:
        raise ValueError(f"recording {recording.id!r} has no labels, so no labelled episodes")
    labelled = recording.labels.astype(bool)
    return runs_of_flags(labelled, recording.time, labelled.astype(np.float64))


@dataclass(frozen=True)
class HRVSummary:
    """Time-domain HRV of the valid beats of a recording; a statistic is ``None`` where too few beats define it.

    Attributes
    ----------
    n_valid : int
        Beats that are not measurement errors (the beats the statistics use).
    mean_rr : float or None
        Mean RR interval (ms); needs one valid beat.
    sdnn : float or None
        Sample standard deviation of RR (ms, ``ddof=1`` as in Kubios and NeuroKit2); needs two valid beats.
    rmssd : float or None
        Root mean square of successive differences (ms); needs one pair of consecutive valid beats.
    pnn50 : float or None
        Percentage of successive differences larger than 50 ms; needs one pair of consecutive valid beats.
    mean_hr : float or None
        Mean instantaneous heart rate ``60000 / RR`` (beats per minute); needs one valid beat.
    """

    n_valid: int
    mean_rr: float | None
    sdnn: float | None
    rmssd: float | None
    pnn50: float | None
    mean_hr: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def hrv_summary(scored: ScoredRecording) -> HRVSummary:
    """Time-domain HRV of a scored recording over its beats that are not measurement errors."""
    return _hrv(scored.recording.rr, ~scored.error)


def _successive_differences(rr: FloatArray, valid: NDArray[np.bool_]) -> FloatArray:
    """Differences ``rr[i + 1] - rr[i]`` over the pairs of consecutive beats that are both valid.

    A pair that touches an invalid beat is dropped rather than bridged: the difference across a removed beat is
    not a beat-to-beat change and would inflate RMSSD and pNN50.
    """
    both = valid[1:] & valid[:-1]
    return np.diff(rr)[both]


def _hrv(rr: FloatArray, valid: NDArray[np.bool_]) -> HRVSummary:
    """Time-domain HRV statistics of the beats where ``valid`` is true (see :class:`HRVSummary`)."""
    good = rr[valid]
    diffs = _successive_differences(rr, valid)

    def value(x: np.floating[Any] | float) -> float:
        return round(float(x), 6)

    return HRVSummary(
        n_valid=int(good.size),
        mean_rr=value(good.mean()) if good.size else None,
        sdnn=value(good.std(ddof=1)) if good.size > 1 else None,
        rmssd=value(np.sqrt(np.mean(diffs**2))) if diffs.size else None,
        pnn50=value(100.0 * np.mean(np.abs(diffs) > NN50_MS)) if diffs.size else None,
        mean_hr=value(np.mean(60_000.0 / good)) if good.size else None,
    )
