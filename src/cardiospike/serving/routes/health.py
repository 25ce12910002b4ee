"""Liveness, readiness and what model is serving; never behind the API key (probes and monitoring call them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from cardiospike.serving.deps import DetectorDep
from cardiospike.serving.errors import error_json
from cardiospike.serving.schemas import (
    ErrorResponse,
    HealthResponse,
    ReadyResponse,
    VersionResponse,
    error_responses,
)
from cardiospike.serving.scoring import RunningJobs
from cardiospike.serving.settings import Settings
from cardiospike.version import package_version

router = APIRouter(tags=["health"])

STUCK: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorResponse,
        "description": "A job of a worker thread (parsing, scoring) has run for longer than the setting stuck_after: "
        "the process should be restarted.",
    }
}


# async: answered on the event loop, so it needs no worker thread, even where every thread is taken or stuck.
@router.get("/health", response_model=HealthResponse, responses=STUCK, summary="The process is alive and not stuck")
async def health(request: Request) -> HealthResponse | Response:
    # Read from the app's state, not through a dependency: FastAPI runs a plain-def dependency in a thread.
    settings: Settings = request.app.state.settings
    jobs: RunningJobs = request.app.state.jobs
    longest = jobs.longest()
    if longest > settings.stuck_after:
        # A thread cannot be stopped from outside: only a restart frees it, so the probe fails.
        return error_json(
            503,
            f"a scoring job has run for more than {settings.stuck_after:g} s ({longest:.0f} s; setting "
            "stuck_after): restart the service",
        )
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
