"""Run the app with uvicorn (``cardiospike serve``)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from cardiospike.serving.settings import Settings

#: Import string of the factory: uvicorn needs one to start several workers, each of which builds its own app.
APP_FACTORY = "cardiospike.serving.app:create_app"


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, plus the service's own logger at ``level``.

    The access log writes method, path and status only; no route logs a request body, so RR values never reach a
    log.
    """
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["cardiospike"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def run(settings: Settings) -> None:
    """Serve until interrupted; workers read their settings from the environment, so ``settings.model`` is put there."""
    import uvicorn

    if isinstance(settings.model, Path):
        os.environ["CARDIOSPIKE_MODEL"] = str(settings.model.resolve())
    elif settings.model is not None:  # a URL, as given
        os.environ["CARDIOSPIKE_MODEL"] = settings.model
    from cardiospike.serving.protocol import GuardedHttpProtocol

    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        http=GuardedHttpProtocol,
        timeout_keep_alive=settings.keep_alive_timeout,
        # HTTP's budget alone: GuardedHttpProtocol leaves WebSockets out of it (the app bounds the streams).
        limit_concurrency=settings.limit_concurrency,
        ws_max_size=settings.stream_max_message_bytes,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=True,
        server_header=False,
    )
