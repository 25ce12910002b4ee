"""The one settings object of the service: environment variables ``CARDIOSPIKE_*`` and a ``.env`` file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cardiospike.parallel import available_cores
from cardiospike.recording import MAX_RECORDING_BEATS
from cardiospike.remote import is_url

MiB = 1024 * 1024
#: Highest value of max_beats (see :data:`~cardiospike.recording.MAX_RECORDING_BEATS`).
MAX_BEATS = MAX_RECORDING_BEATS


class Settings(BaseSettings):
    """Service settings; every field is read from ``CARDIOSPIKE_<NAME>`` (e.g. ``CARDIOSPIKE_PORT``) or ``.env``.

    Attributes
    ----------
    host, port, workers
        Where uvicorn listens and how many worker processes it starts.
    model
        Model artifact: a local folder (a :class:`~pathlib.Path`) or a URL such as ``s3://bucket/models/x`` (kept
        as the string, since a ``Path`` would fold its ``//``); ``None`` serves the model shipped with the package.
    max_beats
        Most beats in one recording (one request of ``/api/v1/predict``, each recording of a batch).
    max_recordings
        Most recordings in one uploaded file (``/api/v1/predict/batch``, ``/api/v1/recordings/parse``).
    max_body_bytes
        Largest request body, checked against ``Content-Length`` and while the body streams in.
    scoring_threads
        Requests parsed and scored at once per worker process; the others wait their turn (without a thread).
    jobs
        Threads that score one request's recordings at once (a batch's, or the pieces of a long recording; the
        same scores whatever the number). Default (or 0): the cores this process may use, shared among the workers.
    request_timeout
        Seconds a client has to send a whole request (headers and body) once it has started it, or to send its
        first request on a new connection; then the connection is closed.
    keep_alive_timeout
        Seconds an idle keep-alive connection stays open between requests.
    max_header_bytes
        Largest request line and headers together; a larger one is answered 431 and the connection closed.
    limit_concurrency
        Most HTTP connections and requests in progress per worker process; beyond, new requests get 503 at once.
        Live streams are counted apart (``stream_max_connections``): open WebSockets never take HTTP's budget, so
        ``/health`` and the REST routes answer however many streams are open.
    stream_max_connections
        Most live streams (``/api/v1/stream``) at once per worker process, and, apart, most connections waiting
        for their API key; beyond, a new one is closed (1013).
    stream_auth_timeout
        Seconds a live stream of a service with an API key has to send ``{"api_key": ...}`` (without the
        ``X-API-Key`` header) before it is closed (1008); until then it is not a stream and is sent nothing.
    stream_max_beats
        Most beats in one live stream.
    stream_idle_timeout
        Seconds a live stream may go without a message before it is closed (1001).
    stream_max_message_bytes
        Largest message of a live stream; a larger one closes it (1009).
    stuck_after
        Seconds a job of a worker thread (parsing, scoring) may run before ``/health`` answers 503, so that an
        orchestrator restarts a process whose thread is stuck. Keep it well above the longest job of the limits
        set: the report of an 8 MiB upload took 9 s on 2 cores, a 1,000,000-beat recording 21 s.
    api_key
        When set, every route that takes or gives recordings requires it in the ``X-API-Key`` header: predict (one
        recording and batch), the legacy ``/predict``, recordings (``/api/v1/demo``, ``/api/v1/recordings/parse``),
        report, and the live stream (``/api/v1/stream``, where a browser sends it as its first message instead).
    cors_origins
        Origins allowed to call the API from a browser (comma separated or a JSON list); none by default.
    log_level
        Level of uvicorn's and the service's logs.
    """

    model_config = SettingsConfigDict(env_prefix="CARDIOSPIKE_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    workers: Annotated[int, Field(ge=1)] = 1
    model: Path | str | None = None
    max_beats: Annotated[int, Field(ge=1, le=MAX_BEATS)] = 100_000
    max_recordings: Annotated[int, Field(ge=1)] = 10_000
    max_body_bytes: Annotated[int, Field(ge=1024, le=1024 * MiB)] = 8 * MiB
    scoring_threads: Annotated[int, Field(ge=1, le=64)] = 2
    jobs: Annotated[int, Field(ge=0, le=256)] = 0
    request_timeout: Annotated[float, Field(gt=0)] = 30.0
    keep_alive_timeout: Annotated[int, Field(ge=1)] = 5
    max_header_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024
    limit_concurrency: Annotated[int, Field(ge=1)] = 100
    stream_max_connections: Annotated[int, Field(ge=1)] = 256
    stream_max_beats: Annotated[int, Field(ge=1)] = 500_000
    stream_idle_timeout: Annotated[float, Field(gt=0)] = 60.0
    stream_max_message_bytes: Annotated[int, Field(ge=1024)] = 65_536
    stream_auth_timeout: Annotated[float, Field(gt=0)] = 5.0
    stuck_after: Annotated[float, Field(gt=0)] = 60.0
    api_key: SecretStr | None = None
    # NoDecode: read "https://a.org,https://b.org" as written instead of requiring JSON in the variable.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @field_validator("model", mode="before")
    @classmethod
    def _path_or_url(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None  # CARDIOSPIKE_MODEL= (empty) in a .env means the shipped model
            return text if is_url(text) else Path(text)
        return value

    @field_validator("api_key", mode="after")
    @classmethod
    def _empty_key_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        # CARDIOSPIKE_API_KEY= (empty) in a .env means "no key", not "the empty key".
        return value if value is not None and value.get_secret_value() else None

    def scoring_jobs(self) -> int:
        """:attr:`jobs`, or where 0 the cores this process may use divided among the workers (at least one)."""
        return self.jobs or max(1, available_cores() // self.workers)
