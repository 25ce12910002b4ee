"""Scoring: one recording as JSON (``/api/v1/predict``) and many as a competition CSV (``/api/v1/predict/batch``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from cardiospike.data.coerce import mostly_errors_warning
from cardiospike.data.errors import render_hint
from cardiospike.data.formats.columns import rr_unit
from cardiospike.data.output import csv_text
from cardiospike.detector import SCORED_COLUMNS, is_labelled, scored_columns, scored_names
from cardiospike.recording import MAX_RR_MS, REFERENCE, Recording
from cardiospike.serving.bodies import file_body_schema, json_body, json_body_schema, uploaded_form
from cardiospike.serving.deps import DetectorDep, MetricsDep, SettingsDep
from cardiospike.serving.errors import InputError
from cardiospike.serving.schemas import PredictRequest, PredictResponse, error_responses
from cardiospike.serving.scoring import (
    READING_FIELDS,
    READING_SCHEMA,
    ClientGoneError,
    off_loop,
    predict_response,
    read_upload,
    reading_of_form,
)

router = APIRouter(prefix="/api/v1", tags=["predict"])


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses=error_responses(400, 413, 422, 503),
    openapi_extra=json_body_schema(PredictRequest),
    summary="Score one recording: per-beat probabilities, episodes and an HRV summary",
)
async def predict(request: Request, detector: DetectorDep, settings: SettingsDep, metrics: MetricsDep) -> Response:
    body = await json_body(request, PredictRequest, settings.max_beats)

    def work() -> bytes:
        rr = np.asarray(body.sequence, dtype=np.float64)
        unit, note = rr_unit(rr, body.unit, None, "sequence")
        scale = 1000.0 if unit == "s" else 1.0  # the unit of the times too
        in_ms = render_hint("{unit=ms} reads milliseconds", body.hints)
        above = np.flatnonzero(rr * scale > MAX_RR_MS)  # the schema checked the number, not it in this unit
        if above.size:
            raise InputError(
                ("body", "sequence", int(above[0])),
                f"RR above {MAX_RR_MS:,.0f} ms is no heart beat interval (read in seconds; {in_ms})",
                type="rr_too_large_in_seconds",
            )
        time = None
        if body.times is not None:
            with np.errstate(over="ignore"):  # times near 1e308 read in seconds: beyond any float in milliseconds
                time = np.asarray(body.times, dtype=np.float64) * scale
            beyond = np.flatnonzero(~np.isfinite(time))
            if beyond.size:
                raise InputError(
                    ("body", "times", int(beyond[0])),
                    f"time too large to be read in seconds ({in_ms})",
                    type="time_too_large_in_seconds",
                )
        recording = Recording.from_rr(rr * scale, id=body.study, time=time, labels=body.labels, unit=unit)
        answer = predict_response(detector.score(recording), detector.model_version)
        doubt = mostly_errors_warning([recording])
        update = {
            "unit": unit,
            "unit_note": None if note is None else render_hint(note, body.hints),
            "warnings": [] if doubt is None else [render_hint(doubt, body.hints)],
        }
        return answer.model_copy(update=update).model_dump_json().encode()

    answer = await off_loop(request, work)
    metrics.beats.inc(len(body.sequence))
    return Response(answer, media_type="application/json")


@router.post(
    "/predict/batch",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One row per input beat, in input order: " + ",".join(SCORED_COLUMNS) + " (with the "
            f"input's labels as {REFERENCE}, after y, where it has a y column).",
        },
        **error_responses(400, 413, 422, 503),
    },
    openapi_extra=file_body_schema("CSV in the competition format: id,time,x[,y].", texts=READING_SCHEMA),
    summary="Score a competition CSV (id,time,x[,y]) of many recordings; answers the scored CSV, streamed",
)
async def predict_batch(
    request: Request, detector: DetectorDep, settings: SettingsDep, metrics: MetricsDep
) -> StreamingResponse:
    source, content, form = await uploaded_form(request, texts=READING_FIELDS)
    reading, hints = reading_of_form({"format": "csv", **form})
    # The whole input is validated before the 200 starts; then it is scored and sent in batches of recordings, so
    # memory holds a few scored batches at once (those the threads are ahead by), not the whole answer.
    recordings = await off_loop(request, lambda: read_upload(content, source, settings, reading, hints))

    labelled = is_labelled(recordings)  # once for every batch: each has the same columns
    # The detector's own batches: its threads score the next ones while one is sent.
    batches = detector.score_batches(recordings)

    def next_text() -> tuple[str, int] | None:
        """The next batch's CSV rows and beats (None after the last): the batch's columns at once, as
        ``cardiospike predict`` writes them, no pandas, no Python object per beat."""
        scored = next(batches, None)
        if scored is None:
            return None
        return csv_text(scored_columns(scored, labelled), header=False), sum(len(s.recording) for s in scored)

    async def scored_csv() -> AsyncIterator[str]:
        yield ",".join(scored_names(labelled)) + "\n"
        while True:
            try:
                part = await off_loop(request, next_text)
            except ClientGoneError:
                return
            if part is None:
                return
            text, beats = part
            metrics.beats.inc(beats)
            yield text

    return StreamingResponse(
        scored_csv(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="scored.csv"'}
    )
