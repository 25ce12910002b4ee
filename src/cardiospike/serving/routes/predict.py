"""Scoring: one recording as JSON (``/api/v1/predict``) and many as a competition CSV (``/api/v1/predict/batch``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import StreamingResponse

from cardiospike.data.io import frame_to_csv
from cardiospike.recording import ERROR, ID, LABEL, PROBA, RR, TIME
from cardiospike.serving.deps import DetectorDep, MetricsDep, SettingsDep
from cardiospike.serving.schemas import PredictRequest, PredictResponse, error_responses
from cardiospike.serving.scoring import check_beats, predict_response, read_upload, score_sequence

router = APIRouter(prefix="/api/v1", tags=["predict"])

#: Columns of the scored CSV, as ``cardiospike predict`` writes them.
SCORED_COLUMNS = (ID, TIME, RR, LABEL, PROBA, ERROR)


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses=error_responses(400, 413, 422, 503),
    summary="Score one recording: per-beat probabilities, episodes and an HRV summary",
)
def predict(
    request: PredictRequest, detector: DetectorDep, settings: SettingsDep, metrics: MetricsDep
) -> PredictResponse:
    # A plain `def`: FastAPI runs it in its thread pool, so scoring (CPU-bound) does not block the event loop.
    check_beats(len(request.sequence), settings.max_beats, ["body", "sequence"])
    scored = score_sequence(detector, metrics, request.study, request.sequence, request.times)
    return predict_response(scored, detector.model_version)


@router.post(
    "/predict/batch",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One row per input beat, in input order: " + ",".join(SCORED_COLUMNS) + ".",
        },
        **error_responses(400, 413, 422, 503),
    },
    summary="Score a competition CSV (id,time,x[,y]) of many recordings; answers the scored CSV, streamed",
)
def predict_batch(
    file: Annotated[UploadFile, File(description="CSV in the competition format: id,time,x[,y].")],
    detector: DetectorDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> StreamingResponse:
    source = file.filename or "upload.csv"
    recordings = read_upload(file.file.read(), source, "csv")
    for rec in recordings:
        check_beats(len(rec), settings.max_beats, ["body", "file", f"recording {rec.id}"])

    def scored_csv() -> Iterator[str]:
        # Input is fully validated above, before the 200 starts; then one recording at a time is scored and sent,
        # so memory holds one scored recording at once, not the whole answer.
        yield ",".join(SCORED_COLUMNS) + "\n"
        for rec in recordings:
            yield frame_to_csv(detector.score(rec).to_frame(), header=False)
            metrics.beats.inc(len(rec))

    return StreamingResponse(
        scored_csv(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="scored.csv"'}
    )
