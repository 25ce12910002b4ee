"""The HTML report of an uploaded file (``/api/v1/report``), as ``cardiospike report`` writes it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from cardiospike.detector import batches_of
from cardiospike.report import ModelInfo, SourceInfo, file_stem, render_report
from cardiospike.serving.bodies import file_body_schema, uploaded_file
from cardiospike.serving.deps import DetectorDep, MetricsDep, SettingsDep
from cardiospike.serving.errors import InputError
from cardiospike.serving.schemas import StudyId, error_responses
from cardiospike.serving.scoring import off_loop, read_upload

router = APIRouter(prefix="/api/v1", tags=["report"])


@router.post(
    "/report",
    # Response, not HTMLResponse: the error answers are JSON, and FastAPI documents them in the route's media type.
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {"schema": {"type": "string"}}},
            "description": "The report, one self-contained HTML file (Plotly.js inside), sent as an attachment.",
        },
        **error_responses(400, 413, 422, 503),
    },
    openapi_extra=file_body_schema(
        "A file of RR recordings in any input format: CSV, text, Polar HRM, JSON, NDJSON, .npy, FIT, WFDB annotations."
    ),
    summary="The HTML report of an uploaded file's recordings (or of one of them): charts, episodes, HRV, errors",
)
async def report(
    request: Request,
    detector: DetectorDep,
    settings: SettingsDep,
    metrics: MetricsDep,
    recording: Annotated[
        StudyId | None, Query(description="Id of one recording of the file to report on (default: every recording).")
    ] = None,
) -> Response:
    source, content = await uploaded_file(request)

    def work() -> tuple[str, int]:
        recordings = read_upload(content, source, settings)
        if recording is not None:
            recordings = [r for r in recordings if r.id == recording]
            if not recordings:
                raise InputError(
                    ["query", "recording"], f"{source} has no recording with this id", "recording_not_found"
                )
        scored = [s for batch in batches_of(recordings) for s in detector.score_many(batch)]
        html = render_report(scored, model=ModelInfo.of(detector), source=SourceInfo.of_bytes(source, content))
        return html, sum(len(r) for r in recordings)

    html, n_beats = await off_loop(request, work)
    metrics.beats.inc(n_beats)
    name = file_stem(recording if recording is not None else source.rsplit(".", 1)[0])
    return HTMLResponse(html, headers={"Content-Disposition": f'attachment; filename="{name}-report.html"'})
