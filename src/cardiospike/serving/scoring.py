"""What the routes share: CPU work off the event loop, reading uploads, the limits, the per-beat fields of answers."""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import PurePath
from typing import TypeVar, cast

import anyio.to_thread
import numpy as np
from fastapi import Request
from starlette.datastructures import State

from cardiospike.data.errors import Surface
from cardiospike.data.formats import Recordings
from cardiospike.data.io import RecordingFormatError, parse_recordings
from cardiospike.detector import ScoredRecording
from cardiospike.recording import FORMATS, UNITS, Reading
from cardiospike.report.content import Reference
from cardiospike.serving.errors import InputError
from cardiospike.serving.schemas import HINTS, LegacyPredictResponse, PredictResponse, ReferenceOut, SummaryOut
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


class RunningJobs:
    """When each job now running in a worker thread started, so that ``/health`` can tell one that never ends.

    A thread cannot be stopped from outside: a job that loops for ever (a reader's bug on some input) holds its
    thread, and its share of ``scoring_threads``, until the process ends. Only a restart frees it, and ``/health``
    answering 503 is what makes an orchestrator restart the process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys = itertools.count()
        self._started: dict[int, float] = {}

    def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` here (in the worker thread), recorded while it runs."""
        with self._lock:
            key = next(self._keys)
            self._started[key] = time.monotonic()
        try:
            return work()
        finally:
            with self._lock:
                del self._started[key]

    def longest(self) -> float:
        """Seconds the longest-running job has run so far (0 where none runs)."""
        with self._lock:
            first = min(self._started.values(), default=None)
        return 0.0 if first is None else time.monotonic() - first

    def __len__(self) -> int:
        with self._lock:
            return len(self._started)


async def in_thread(state: State, work: Callable[[], T]) -> T:
    """Run ``work`` in a worker thread, recorded in the app's :class:`RunningJobs` while it runs."""
    jobs: RunningJobs = state.jobs
    return await anyio.to_thread.run_sync(partial(jobs.run, work))


async def off_loop(request: Request, work: Callable[[], T]) -> T:
    """Run CPU-bound ``work`` in a worker thread, at most ``scoring_threads`` at once per process.

    Requests wait for their turn without a thread; when a request's turn comes and its client has left, it is
    dropped instead of computed. The job is recorded while it runs (``/health`` tells one that never ends).
    """
    async with request.app.state.cpu_limiter:
        if await client_gone(request):
            raise ClientGoneError
        return await in_thread(request.app.state, work)


#: A sampling rate as a form field takes it: a positive decimal number (Hz), at most six digits each side of its point.
RATE_PATTERN = r"^([1-9][0-9]{0,5}(\.[0-9]{1,6})?|0?\.[0-9]{0,5}[1-9][0-9]{0,5})$"
#: The text fields of an upload that say how to read it, as ``cardiospike predict``'s options do.
READING_FIELDS = (
    "format", "unit", "rr_column", "time_column", "id_column", "ignore_time", "sampling_rate", "ecg_channel", "hints",
)  # fmt: skip
#: The OpenAPI schema of those fields.
READING_SCHEMA: dict[str, dict[str, object]] = {
    "format": {"type": "string", "enum": list(FORMATS), "description": "Input format (default: auto, sniffed)."},
    "unit": {"type": "string", "enum": list(UNITS), "description": "Unit of RR (default: auto)."},
    "rr_column": {"type": "string", "description": "Column holding RR, by name or number from 1."},
    "time_column": {"type": "string", "description": "Column holding beat times, by name or number from 1."},
    "id_column": {"type": "string", "description": "Column holding recording ids, by name or number from 1."},
    "ignore_time": {"type": "string", "enum": ["true", "false"], "description": "Time beats by RR (default false)."},
    "sampling_rate": {
        "type": "string",
        "pattern": RATE_PATTERN,
        "description": "Read a CSV, text or .npy upload as ECG samples at this rate (Hz).",
    },
    "ecg_channel": {"type": "string", "description": "The lead of an ECG record of several, by name or number from 1."},
    "hints": {"type": "string", "enum": list(HINTS), "description": "How messages name these options."},
}


def reading_of_form(form: Mapping[str, str]) -> tuple[Reading, Surface]:
    """How an upload's text fields (:data:`READING_FIELDS`) ask to read it, and how its messages name options; 422
    naming the field where a value is none of its choices."""

    def choice(field: str, choices: Sequence[str], default: str) -> str:
        value = form.get(field, "").strip() or default
        if value not in choices:
            raise InputError(["body", field], f"expected one of {', '.join(choices)}", "enum")
        return value

    def column(field: str) -> str | None:
        return form.get(field, "").strip()[:256] or None

    def rate(field: str) -> float | None:
        text = form.get(field, "")
        if not text.strip():
            return None
        if not re.fullmatch(RATE_PATTERN, text):
            raise InputError(["body", field], "expected a positive number of Hz, such as 250 or 128.5", "pattern")
        return float(text)

    reading = Reading.of_options(
        choice("format", FORMATS, "auto"),
        choice("unit", UNITS, "auto"),
        column("rr_column"),
        column("time_column"),
        column("id_column"),
        ignore_time=choice("ignore_time", ("true", "false"), "false") == "true",
        sampling_rate=rate("sampling_rate"),
        ecg_channel=column("ecg_channel"),
    )
    return reading, cast(Surface, choice("hints", HINTS, "rest"))


def read_upload(
    content: bytes, source: str, settings: Settings, reading: Reading | None = None, hints: Surface = "rest"
) -> Recordings:
    """Parse an uploaded file with the readers of ``cardiospike predict``, within the service's limits.

    A recording without an id in the file is named after the file, as the command line names it. 422 naming file,
    line and field where it is bad (never the value found there: answers do not echo input); its hint names the
    option as ``hints`` says (a REST field, a control of the web page).
    """
    reading = reading or Reading()
    loc: list[str | int] = ["body", "file"]
    try:
        recordings = parse_recordings(
            content,
            source=source,
            default_id=PurePath(source).stem or "recording",
            max_recordings=settings.max_recordings,
            **reading.kwargs(),
        )
    except RecordingFormatError as exc:
        raise InputError(loc, exc.shown_on(hints).without_value(), "recording_format") from None
    except Exception as exc:
        # A reader's bug on some input must not become a 500 for the client, whatever it raises; the log has the
        # kind only, since messages may quote values of the file.
        log.warning("unreadable upload: %s", type(exc).__name__)
        what = "a CSV of recordings" if reading.fmt == "csv" else "recordings"
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


def reference_of(scored: ScoredRecording) -> ReferenceOut | None:
    """How the flags compare with the recording's reference labels, where it has them."""
    labels = scored.recording.labels
    if labels is None:
        return None
    ref = Reference.of(labels, scored.is_anomaly)  # the report's comparison, rounded as answers round
    precision, recall, f1 = (round(v, PROBA_DECIMALS) for v in (ref.precision, ref.recall, ref.f1))
    return ReferenceOut(
        n_labelled=ref.n_labelled, n_missed=ref.n_missed, n_false=ref.n_false, precision=precision, recall=recall, f1=f1
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
        reference=reference_of(scored),
    )
