"""Prometheus metrics of one app: requests by route and status, latency, beats scored.

Each app has its own registry (tests create many apps in one process). With several uvicorn workers each process
counts its own requests: a scrape sees one worker; aggregate across workers in Prometheus, or run one worker per
container.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Label of requests that match no route: a fixed value, so that scanning random paths cannot grow the label set.
UNMATCHED = "<unmatched>"


class Metrics:
    """The app's collectors, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cardiospike_http_requests", "HTTP requests by route, method and status.", ["route", "method", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "cardiospike_http_request_duration_seconds", "Time to answer a request (until its last byte), by route.",
            ["route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
        )  # fmt: skip
        self.beats = Counter("cardiospike_beats_scored", "Beats scored by the model.", registry=self.registry)


class MetricsMiddleware:
    """ASGI middleware that counts every HTTP request, also those answered by inner middleware (e.g. 413)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before it starts an answer
        start = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = _route_of(scope)
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - start)


def _route_of(scope: Scope) -> str:
    """Path template of the route (``/api/v1/predict``, ``/static/{path}``), also for requests answered before routing.

    Those are labelled by their path when it is one of the API's paths (all of them are fixed, without
    parameters), else :data:`UNMATCHED`.
    """
    route = scope.get("route")
    if route is not None:
        return str(getattr(route, "path", UNMATCHED))
    if scope.get("endpoint") is not None and scope.get("root_path"):
        # A mounted app (the web app's static files): routing set its prefix as root_path; one label for all its files.
        return f"{scope['root_path']}/{{path}}"
    app = scope.get("app")
    paths = app.openapi().get("paths", {}) if app is not None else {}
    return str(scope["path"]) if scope["path"] in paths else UNMATCHED
