"""The app factory: ``create_app(settings)`` builds the FastAPI app; the model is loaded once, at start-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from cardiospike.artifact import ArtifactError
from cardiospike.detector import default_model_path, load_detector
from cardiospike.serving.deps import API_KEY_HEADER, require_api_key
from cardiospike.serving.errors import add_error_handlers
from cardiospike.serving.middleware import BodySizeLimit
from cardiospike.serving.monitoring import Metrics, MetricsMiddleware
from cardiospike.serving.routes import health, legacy, predict, recordings, report, stream
from cardiospike.serving.routes import metrics as metrics_route
from cardiospike.serving.routes.web import add_web_app
from cardiospike.serving.schemas import error_responses
from cardiospike.serving.scoring import ClientGoneError, RunningJobs
from cardiospike.serving.settings import Settings
from cardiospike.version import package_version

log = logging.getLogger(__name__)

DESCRIPTION = """Marks anomaly episodes beat by beat in heart RR-interval recordings.

* `POST /api/v1/predict`: one recording as JSON -> per-beat probabilities and flags, episodes, HRV summary.
* `POST /api/v1/predict/batch`: a competition CSV (`id,time,x[,y]`) -> the scored CSV, streamed.
* `POST /api/v1/report`: a file of recordings -> the HTML report of its recordings (or of one), as an attachment.
* `POST /predict`: the original hackathon contract.
* `GET /api/v1/demo`, `POST /api/v1/recordings/parse`: a synthetic demo recording; the recordings of an uploaded file.
* `WS /api/v1/stream`: live scoring of a beat stream (JSON messages of RR as they arrive -> final decisions and
  episode events); a WebSocket, so not listed below.

The web app at `/` (same process) draws a recording's RR chart with its anomaly episodes, using these routes.

Every error answer is `{"detail": ..., "errors": [{"loc", "msg", "type"}]}`; request values are never echoed.
"""


class ModelLoadError(RuntimeError):
    """The configured model cannot be loaded: the service refuses to start rather than answer 503 for ever."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    where = settings.model or default_model_path()
    try:
        # Where the compiled forest is not in the cache yet (cardiospike serve puts it there first, unless the cache
        # cannot be written), this worker compiles it: the log says why its start takes a while.
        app.state.detector = load_detector(settings.model, on_compile=log.info, jobs=settings.scoring_jobs())
    except ArtifactError as exc:
        log.error("cannot start: %s (set CARDIOSPIKE_MODEL or --model to a model artifact folder)", exc)
        raise ModelLoadError(f"cannot load the model from {where}: {exc}") from None
    detector = app.state.detector
    log.info("model %s loaded from %s (threshold %.4f)", detector.model_version, where, detector.threshold)
    app.state.cpu_limiter = anyio.CapacityLimiter(settings.scoring_threads)
    app.state.streams = 0  # live streams open
    app.state.awaiting_key = 0  # WebSockets not yet streams: waiting for their API key
    yield
    app.state.detector = None


#: Status recorded (in the access log and metrics) for a request whose client left before it was worked on.
CLIENT_CLOSED = 499


async def _client_gone(_: Request, __: Exception) -> Response:
    return Response(status_code=CLIENT_CLOSED)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; without ``settings``, they are read from ``CARDIOSPIKE_*`` variables and ``.env``.

    uvicorn calls this with no argument in every worker (``factory=True``), so each worker reads the same
    environment that ``cardiospike serve`` prepared.
    """
    settings = settings or Settings()
    # FastAPIOffline serves the /docs page's Swagger UI assets from the installed package, not a CDN: offline too.
    app = FastAPIOffline(
        title="CardioSpike",
        version=package_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
    )
    app.state.settings = settings
    app.state.detector = None
    app.state.metrics = Metrics()
    app.state.jobs = RunningJobs()  # before start-up: /health reads it at any time
    add_error_handlers(app)
    for module in (health, metrics_route):
        app.include_router(module.router)
    # The key guards the routes that take or give recordings (not the page, which holds no data), and is declared
    # in the OpenAPI schema only where one is configured, so the schema tells clients the truth either way.
    keyed = settings.api_key is not None
    app.include_router(stream.router)  # checks the key itself: a browser's WebSocket cannot send the header
    for module in (predict, legacy, recordings, report):
        app.include_router(
            module.router,
            dependencies=[Depends(require_api_key)] if keyed else None,
            responses=error_responses(401) if keyed else None,
        )
    add_web_app(app)
    app.add_exception_handler(ClientGoneError, _client_gone)
    # Added innermost first: the body limit runs right before the app, CORS answers preflights before the limit,
    # and metrics, outermost, also count the answers of the middleware inside it.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", API_KEY_HEADER],
        )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
