"""The HTML report of an uploaded file (``/api/v1/report``), as ``cardiospike report`` writes it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError

from cardiospike.recording import Recording
from cardiospike.report import ModelInfo, SourceInfo, file_stem, render_report
from cardiospike.report.strips import MAX_STRIPS
from cardiospike.serving.bodies import file_body_schema, uploaded_form
from cardiospike.serving.deps import DetectorDep, MetricsDep, SettingsDep
from cardiospike.serving.errors import InputError, ValidationProblemsError
from cardiospike.serving.schemas import RecordingId, error_responses
from cardiospike.serving.scoring import READING_FIELDS, READING_SCHEMA, off_loop, read_upload, reading_of_form

router = APIRouter(prefix="/api/v1", tags=["report"])

#: The form field naming one recording of the file: in the body, since access logs write query strings (and a
#: recording id may name a patient). Any id the readers read is taken, however long (a study id of /predict, echoed
#: back, has at most 256 characters; this one only picks a recording of the file, and the body limit bounds it).
RECORDING = "recording"
_RECORDING_ID = TypeAdapter(RecordingId)
_RECORDING_SCHEMA = {
    **_RECORDING_ID.json_schema(),
    "description": "Id of one recording of the file to report on (default: every recording).",
}


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
        "A file of RR recordings in any input format: CSV, text, Polar HRM, JSON, NDJSON, .npy, FIT, WFDB annotations; "
        "or an ECG: EDF, or samples (CSV, text, .npy) with sampling_rate, its heart beats detected. Of ECG, the "
        f"report shows the ECG around each of the first {MAX_STRIPS} episodes.",
        texts={RECORDING: _RECORDING_SCHEMA, **READING_SCHEMA},
    ),
    summary="The HTML report of an uploaded file's recordings (or of one of them): charts, episodes, HRV, errors",
)
async def report(request: Request, detector: DetectorDep, settings: SettingsDep, metrics: MetricsDep) -> Response:
    if RECORDING in request.query_params:  # where it was once sent: refused rather than ignored
        raise InputError(["query", RECORDING], "send the recording id as a form field of the body", "moved_to_body")
    source, content, form = await uploaded_form(request, texts=(RECORDING, *READING_FIELDS))
    recording = _recording_id(form.get(RECORDING))
    reading, hints = reading_of_form(form)

    def work() -> tuple[str, int]:
        read = read_upload(content, source, settings, reading, hints)
        recordings: list[Recording] = read
        if recording is not None:
            recordings = [r for r in recordings if r.id == recording]
            if not recordings:
                raise InputError(["body", RECORDING], f"{source} has no recording with this id", "recording_not_found")
        scored = detector.score_many(recordings)
        # An ECG upload's strips are read from its bytes, which the request holds anyway.
        info = SourceInfo.of_bytes(source, content)
        html = render_report(scored, model=ModelInfo.of(detector), source=info, ecg=read.ecg)
        return html, sum(len(r) for r in recordings)

    html, n_beats = await off_loop(request, work)
    metrics.beats.inc(n_beats)
    name = file_stem(recording if recording is not None else source.rsplit(".", 1)[0])
    return HTMLResponse(html, headers={"Content-Disposition": f'attachment; filename="{name}-report.html"'})


def _recording_id(value: str | None) -> str | None:
    """The recording asked for (None: every recording): not empty."""
    if value is None:
        return None
    try:
        return _RECORDING_ID.validate_python(value)
    except ValidationError as exc:
        raise ValidationProblemsError(exc.errors(include_input=False), prefix=["body", RECORDING]) from None
