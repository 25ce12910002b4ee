"""Liveness, readiness and what model is serving; never behind the API key (probes and monitoring call them)."""

from __future__ import annotations

from fastapi import APIRouter

from cardiospike.serving.deps import DetectorDep
from cardiospike.serving.schemas import HealthResponse, ReadyResponse, VersionResponse, error_responses
from cardiospike.version import package_version

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, summary="The process is alive")
def health() -> HealthResponse:
    return HealthResponse()


@router.get("/ready", response_model=ReadyResponse, responses=error_responses(503), summary="The model is loaded")
def ready(detector: DetectorDep) -> ReadyResponse:
    return ReadyResponse(model_version=detector.model_version)


@router.get("/version", response_model=VersionResponse, responses=error_responses(503), summary="Package and model")
def version(detector: DetectorDep) -> VersionResponse:
    lookup = detector.artifact.entry
    return VersionResponse(
        package_version=package_version(),
        model_version=detector.model_version,
        model_package_version=lookup("package_version"),
        model_created=lookup("created"),
        threshold=detector.threshold,
        feature_set=detector.artifact.features.to_dict(),
        training_data_sha256=lookup("training", "data", "sha256"),
        cv_f1=detector.artifact.cv_f1,
    )
