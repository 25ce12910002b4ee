"""Dependencies of the routes (injected with ``Annotated``): settings, the loaded detector, metrics, the API key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from cardiospike.detector import Detector
from cardiospike.serving.monitoring import Metrics
from cardiospike.serving.settings import Settings

API_KEY_HEADER = "X-API-Key"
_api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="Required, where the service has a key, on every route that takes or gives recordings: predict, "
    "the legacy /predict, recordings (demo, parse), report, and the live stream.",
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_detector(request: Request) -> Detector:
    """The detector loaded at start-up; 503 while there is none (before start-up has finished)."""
    detector: Detector | None = getattr(request.app.state, "detector", None)
    if detector is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the model is not loaded")
    return detector


def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
DetectorDep = Annotated[Detector, Depends(get_detector)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


def require_api_key(settings: SettingsDep, key: Annotated[str | None, Security(_api_key_header)]) -> None:
    """Check ``X-API-Key`` against the service's key (the app adds this check only where a key is configured)."""
    if settings.api_key is None:
        return
    # compare_digest: the time taken must not tell how much of a guessed key was right.
    if key is None or not secrets.compare_digest(key.encode(), settings.api_key.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"missing or wrong {API_KEY_HEADER} header")
