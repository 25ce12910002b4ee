"""Recordings for the web app: a synthetic demo recording, and the recordings of an uploaded file as JSON.

Neither route scores anything: the page sends the recording it shows to ``/api/v1/predict``, so the browser and
every other client get one and the same answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from cardiospike.data import simulate_recording
from cardiospike.data.errors import render_hint
from cardiospike.serving.bodies import file_body_schema, uploaded_form
from cardiospike.serving.deps import SettingsDep
from cardiospike.serving.schemas import DemoRecording, ParsedRecording, ParseResponse, error_responses
from cardiospike.serving.scoring import (
    READING_FIELDS,
    READING_SCHEMA,
    check_beats,
    off_loop,
    read_upload,
    reading_of_form,
)

router = APIRouter(prefix="/api/v1", tags=["recordings"])

#: Most beats of a demo recording (about 3 hours at 75 beats per minute): enough to try long recordings.
MAX_DEMO_BEATS = 20_000


@router.get(
    "/demo",
    response_model=DemoRecording,
    responses=error_responses(422),
    summary="A synthetic, seeded demo recording with anomaly episodes and a few measurement errors (no patient data)",
)
def demo(
    settings: SettingsDep,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed: the same seed gives the same recording.")] = 0,
    n_beats: Annotated[int, Query(ge=1, le=MAX_DEMO_BEATS, description="Number of beats.")] = 1200,
) -> DemoRecording:
    check_beats(n_beats, settings.max_beats, ["query", "n_beats"])
    rec = simulate_recording(n_beats, seed=seed, id=f"demo-{seed}")
    return DemoRecording(study=rec.id, sequence=rec.rr.tolist(), times=rec.time.tolist(), synthetic=True)


@router.post(
    "/recordings/parse",
    response_model=ParseResponse,
    responses=error_responses(400, 413, 422),
    openapi_extra=file_body_schema(
        "A file of RR recordings in any input format: CSV, text, Polar HRM, JSON, NDJSON, .npy, FIT, WFDB annotations; "
        "or an ECG: EDF, or samples (CSV, text, .npy) with sampling_rate, its heart beats detected.",
        texts=READING_SCHEMA,
    ),
    summary="Read the recordings of an uploaded file (any input format, as `cardiospike predict` reads them)",
)
async def parse(request: Request, settings: SettingsDep) -> Response:
    # The body limit (max_body_bytes) has been enforced by the middleware before this runs.
    source, content, form = await uploaded_form(request, texts=READING_FIELDS)
    reading, hints = reading_of_form(form)

    def work() -> bytes:
        recordings = read_upload(content, source, settings, reading, hints)
        parsed = [
            ParsedRecording(
                id=rec.id,
                rr=rec.rr.tolist(),
                time=rec.time.tolist(),
                labels=None if rec.labels is None else rec.labels.tolist(),
            )
            for rec in recordings
        ]
        return (
            ParseResponse(
                source=source,
                format=recordings.format,
                taken_as=recordings.taken_as,
                unit=recordings.unit,
                unit_note=None if recordings.unit_note is None else render_hint(recordings.unit_note, hints),
                warnings=[render_hint(w, hints) for w in recordings.warnings],
                recordings=parsed,
            )
            .model_dump_json()
            .encode()
        )

    return Response(await off_loop(request, work), media_type="application/json")
