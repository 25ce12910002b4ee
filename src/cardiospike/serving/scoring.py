"""What the routes share: CPU work off the event loop, reading uploads, the limits, the per-beat fields of answers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import anyio.to_thread
import numpy as np
from fastapi import Request

from cardiospike.data.io import Format, RecordingFormatError, parse_recordings
from cardiospike.detector import ScoredRecording
from cardiospike.recording import Recording
from cardiospike.serving.errors import InputError
from cardiospike.serving.schemas import LegacyPredictResponse, PredictResponse, SummaryOut
from cardiospike.serving.settings import Settings
from cardiospike.summary import episodes_of, hrv_summary

log = logging.getLogger(__name__)

#: Decimals of probabilities in answers, as in the scored CSV.
PROBA_DECIMALS = 6

T = TypeVar("T")


class ClientGoneError(Exception):
    """The client closed the connection before its request was worked on: nothing is computed for nobody."""


#: Bodies larger than this may have left the server's reading of the socket paused (uvicorn's high-water mark).
_PAUSED_READING_BYTES = 65_536


async def client_gone(request: Request) -> bool:
    """Whether the client has closed its connection.

    While a large body arrives the server pauses reading the socket, so a client that sent it and left is only seen
    once reading resumes: asking resumes it, and a short wait lets the event loop see the closed connection.
    """
    if await request.is_disconnected():
        return True
    if int(request.headers.get("content-length") or 0) <= _PAUSED_READING_BYTES:
        return False
    await anyio.sleep(0.005)
    return await request.is_disconnected()


async def off_loop(request: Request, work: Callable[[], T]) -> T:
    """Run CPU-bound ``work`` in a worker thread, at most ``scoring_threads`` at once per process.

    Requests wait for their turn without a thread; when a request's turn comes and its client has left, it is
    dropped instead of computed.
    """
    async with request.app.state.cpu_limiter:
        if await client_gone(request):
            raise ClientGoneError
        return await anyio.to_thread.run_sync(work)


def read_upload(content: bytes, source: str, settings: Settings, fmt: Format = "auto") -> list[Recording]:
    """Parse an uploaded file with the readers of ``cardiospike predict``, within the service's limits.

    422 naming file, line and field where it is bad (never the value found there: answers do not echo input).
    """
    loc: list[str | int] = ["body", "file"]
    try:
        recordings = parse_recordings(content, source=source, fmt=fmt, max_recordings=settings.max_recordings)
    except RecordingFormatError as exc:
        raise InputError(loc, exc.without_value(), "recording_format") from None
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        # A reader bug must not become a 500 for the client; log the kind only, as messages may quote values.
        log.warning("unreadable upload: %s", type(exc).__name__)
        what = "a CSV of recordings" if fmt == "csv" else "recordings"
        raise InputError(loc, f"{source}: cannot be read as {what}", "recording_format") from None
    for i, rec in enumerate(recordings):
        check_beats(len(rec), settings.max_beats, [*loc, "recordings", i])
    return recordings


def check_beats(n_beats: int, limit: int, loc: Sequence[str | int]) -> None:
    """422 where a recording has more beats than the service scores in one go."""
    if n_beats > limit:
        raise InputError(
            loc, f"{n_beats} beats, more than the limit of {limit} per recording (setting max_beats)", "too_many_beats"
        )


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
