"""``POST /predict``: the contract of the original hackathon service, so its clients keep working."""

from __future__ import annotations

from fastapi import APIRouter

from cardiospike.serving.deps import DetectorDep, MetricsDep, SettingsDep
from cardiospike.serving.schemas import LegacyPredictRequest, LegacyPredictResponse, error_responses
from cardiospike.serving.scoring import check_beats, legacy_response, score_sequence

router = APIRouter(tags=["legacy"])


@router.post(
    "/predict",
    response_model=LegacyPredictResponse,
    responses=error_responses(400, 413, 422, 503),
    summary="Score one recording (original hackathon contract; prefer /api/v1/predict)",
)
def predict_legacy(
    request: LegacyPredictRequest, detector: DetectorDep, settings: SettingsDep, metrics: MetricsDep
) -> LegacyPredictResponse:
    check_beats(len(request.sequence), settings.max_beats, ["body", "sequence"])
    return legacy_response(score_sequence(detector, metrics, request.study, request.sequence))
