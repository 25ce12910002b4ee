"""``POST /predict``: the contract of the original hackathon service, so its clients keep working."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cardiospike.recording import Recording
from cardiospike.serving.bodies import json_body, json_body_schema
from cardiospike.serving.deps import DetectorDep, MetricsDep, SettingsDep
from cardiospike.serving.schemas import LegacyPredictRequest, LegacyPredictResponse, error_responses
from cardiospike.serving.scoring import legacy_response, off_loop

router = APIRouter(tags=["legacy"])


@router.post(
    "/predict",
    response_model=LegacyPredictResponse,
    responses=error_responses(400, 413, 422, 503),
    openapi_extra=json_body_schema(LegacyPredictRequest),
    summary="Score one recording (original hackathon contract; prefer /api/v1/predict)",
)
async def predict_legacy(
    request: Request, detector: DetectorDep, settings: SettingsDep, metrics: MetricsDep
) -> Response:
    body = await json_body(request, LegacyPredictRequest, settings.max_beats)

    def work() -> bytes:
        recording = Recording.from_rr(body.sequence, id=body.study)
        return legacy_response(detector.score(recording)).model_dump_json().encode()

    answer = await off_loop(request, work)
    metrics.beats.inc(len(body.sequence))
    return Response(answer, media_type="application/json")
