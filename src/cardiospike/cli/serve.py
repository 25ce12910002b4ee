"""``cardiospike serve``: the web app and REST API under uvicorn, with settings from options, environment, .env.

What the terminal shows, in order: a note before the model is prepared where that takes a while (the first start
compiles the forest for this CPU), then "Serving ... on http://HOST:PORT" once the port accepts connections, never
before. A port already in use stops the command at once, before the model is prepared, with one line that says so.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from cardiospike.cli.console import console, fail
from cardiospike.cli.options import ModelOption

if TYPE_CHECKING:
    from cardiospike.artifact import Artifact
    from cardiospike.serving.settings import Settings

#: Seconds between two looks at whether the server listens yet.
POLL_SECONDS = 0.1


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

    from cardiospike.serving import server
    from cardiospike.serving.settings import Settings

    overrides = {"host": host, "port": port, "workers": workers, "model": model}
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        raise fail(f"invalid settings: {exc}") from None
    artifact = load_model(settings)  # a wrong model stops here, with the reason (reading it takes a moment)
    # The port is held while the model is prepared (up to a minute on a first start), so that a busy port is said
    # before that wait rather than after it, and no other program takes the port meanwhile.
    with reserved(settings.host, settings.port):
        prepare_model(artifact)
    listening = threading.Event()
    announcer = threading.Thread(target=announce_when_listening, args=(settings, listening), daemon=True)
    announcer.start()
    try:
        server.run(settings)
    finally:
        listening.set()  # stops the announcer, if the server stopped before it listened
        announcer.join(timeout=1)


def load_model(settings: Settings) -> Artifact:
    """The model artifact the service will serve, or an exit with the reason it cannot be read."""
    from cardiospike.artifact import ArtifactError, load_artifact
    from cardiospike.detector import default_model_path

    try:
        return load_artifact(default_model_path() if settings.model is None else settings.model)
    except ArtifactError as exc:
        raise fail(str(exc)) from None


def prepare_model(artifact: Artifact) -> None:
    """Make the model ready to score once here, saying so first where its forest is compiled for this CPU (about
    20 s, on a first start only): each worker then reads the compiled forest from the cache. A model that cannot
    score stops here, with the reason, before uvicorn starts."""
    from cardiospike.artifact import ArtifactError
    from cardiospike.detector import Detector

    def compiling(message: str) -> None:
        console.print(f"Preparing the model: {escape(message)}", highlight=False, soft_wrap=True)

    try:
        Detector(artifact, on_compile=compiling)
    except ArtifactError as exc:
        raise fail(str(exc)) from None


@contextmanager
def reserved(host: str, port: int) -> Iterator[None]:
    """Hold ``host:port`` bound (not listening) for the block, or exit with one line where it cannot be bound.

    The socket is bound as uvicorn binds it (``SO_REUSEADDR``: a port whose old connections linger in TIME_WAIT
    is free), and released before uvicorn binds it again.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise fail(f"port {port} on {host} is in use: choose another with --port") from None
            # A host that is no address of this machine, a port below 1024 without the right to it ...
            raise fail(f"cannot listen on {host} port {port}: {exc.strerror or exc} (see --host, --port)") from None
        yield


def base_url(host: str, port: int) -> str:
    """``http://HOST:PORT``, an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announce_when_listening(settings: Settings, stop: threading.Event) -> None:
    """Print "Serving ... on URL" once the server accepts connections on its port; give up when ``stop`` is set.

    uvicorn binds the port after the app's start-up (one worker) or before starting its workers (several), and
    offers no hook after either, so this asks the port itself: a connection is accepted only once a server listens.
    """
    if settings.port == 0:  # the system picks the port: uvicorn's own log line names it
        return
    url = base_url(settings.host, settings.port)
    # The wildcard addresses listen on every interface, loopback among them; they cannot be connected to.
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host, settings.host)
    while not stop.is_set():
        try:
            with socket.create_connection((target, settings.port), timeout=1):
                pass
        except OSError:
            stop.wait(POLL_SECONDS)
            continue
        console.print(
            f"Serving the web app on {escape(url)}/ and the API (docs at {escape(url)}/docs), "
            f"{settings.workers} worker(s); Ctrl-C stops",
            highlight=False,
            soft_wrap=True,
        )
        return
