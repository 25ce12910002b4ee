"""``cardiospike serve``: the web app and REST API under uvicorn, with settings from options, environment, .env."""

from __future__ import annotations

from typing import Annotated

import typer

from cardiospike.cli.console import console, fail
from cardiospike.cli.options import ModelOption, open_detector


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: CARDIOSPIKE_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: CARDIOSPIKE_PORT or 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: CARDIOSPIKE_WORKERS or 1).")] = None,
    model: ModelOption = None,
) -> None:
    """Serve the REST API (docs at /docs) and the web app (at /); options override CARDIOSPIKE_* variables and .env."""
    from pydantic import ValidationError

    from cardiospike.serving.server import run
    from cardiospike.serving.settings import Settings

    overrides = {"host": host, "port": port, "workers": workers, "model": model}
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        raise fail(f"invalid settings: {exc}") from None
    open_detector(settings.model)  # a wrong model path stops here, with the reason, before uvicorn starts
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"Serving the web app on {url}/ and the API (docs at {url}/docs), {settings.workers} worker(s)")
    run(settings)
