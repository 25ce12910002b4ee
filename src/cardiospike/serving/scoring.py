"""What the routes share: reading uploads, the beat limit, scoring one recording, the per-beat fields of an answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from cardiospike.data.io import Format, RecordingFormatError, parse_recordings
from cardiospike.detector import Detector, ScoredRecording
from cardiospike.recording import Recording
from cardiospike.serving.errors import InputError
from cardiospike.serving.metrics import Metrics
from cardiospike.serving.schemas import LegacyPredictResponse, PredictResponse, SummaryOut
from cardiospike.summary import episodes_of, hrv_summary

log = logging.getLogger(__name__)

#: Decimals of probabilities in answers, as in the scored CSV.
PROBA_DECIMALS = 6


def read_upload(content: bytes, source: str, fmt: Format = "auto") -> list[Recording]:
    """Parse an uploaded file with the readers of ``cardiospike predict``; 422 naming file, line and field if bad."""
    loc: list[str | int] = ["body", "file"]
    try:
        return parse_recordings(content, source=source, fmt=fmt)
    except RecordingFormatError as exc:
        raise InputError(loc, str(exc), "recording_format") from None
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        # A reader bug must not become a 500 for the client; log the kind only, as messages may quote values.
        log.warning("unreadable upload %r: %s", source, type(exc).__name__)
        what = "a CSV of recordings" if fmt == "csv" else "recordings"
        raise InputError(loc, f"{source}: cannot be read as {what}", "recording_format") from None


def check_beats(n_beats: int, limit: int, loc: Sequence[str | int]) -> None:
    """422 where a recording has more beats than the service scores in one go."""
    if n_beats > limit:
        raise InputError(
            loc, f"{n_beats} beats, more than the limit of {limit} per recording (setting max_beats)", "too_many_beats"
        )


def score_sequence(
    detector: Detector, metrics: Metrics, study: str, rr: Sequence[float], times: Sequence[float] | None = None
) -> ScoredRecording:
    """Score one recording given as lists (the JSON routes); counts its beats in the metrics."""
    time = None if times is None else np.asarray(times, dtype=np.float64)
    recording = Recording.from_rr(np.asarray(rr, dtype=np.float64), id=study, time=time)
    scored = detector.score(recording)
    metrics.beats.inc(len(recording))
    return scored


def legacy_response(scored: ScoredRecording) -> LegacyPredictResponse:
    return LegacyPredictResponse(
        study=scored.recording.id,
        anomaly_proba=np.round(scored.proba, PROBA_DECIMALS).tolist(),
        anomaly_thresh=scored.threshold,
        errors=scored.error.astype(np.int8).tolist(),
    )


def predict_response(scored: ScoredRecording, model_version: str) -> PredictResponse:
    episodes = episodes_of(scored)
    n_beats = len(scored.recording)
    summary = SummaryOut(
        n_beats=n_beats,
        n_episodes=len(episodes),
        anomaly_share=round(float(scored.is_anomaly.mean()), PROBA_DECIMALS) if n_beats else 0.0,
        **hrv_summary(scored).to_dict(),
    )
    return PredictResponse(
        **dict(legacy_response(scored)),
        model_version=model_version,
        is_anomaly=scored.is_anomaly.astype(np.int8).tolist(),
        episodes=episodes,
        summary=summary,
    )
