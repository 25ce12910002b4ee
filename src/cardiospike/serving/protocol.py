"""uvicorn's HTTP protocol (httptools) with the bounds uvicorn leaves open: time to send a request, size of headers.

uvicorn closes idle keep-alive connections, but a connection that never finishes its request (a slow-loris client
sending a header byte now and then, or a body that never ends) stays open for ever. Here every request, and a new
connection's first request, must arrive whole within ``request_timeout`` seconds of its start, and its request line
and headers may hold at most ``max_header_bytes`` bytes (431 beyond). Both come from the service's settings.

uvicorn's ``limit_concurrency`` counts every connection and task of the server, WebSockets included, so open live
streams would take HTTP's budget (99 idle streams and ``/health`` answered 503). Here it counts HTTP connections
and HTTP requests in progress only; the app bounds the streams itself (``stream_max_connections``).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from cardiospike.serving.settings import Settings

#: The code of the coroutine uvicorn runs for each HTTP request: it tells HTTP requests from WebSocket tasks.
_HTTP_REQUEST_CODE = RequestResponseCycle.run_asgi.__code__


class HeadersTooLargeError(Exception):
    """Raised from the parser's callback to stop parsing a request whose headers are over the limit."""


@lru_cache(maxsize=1)
def _limits() -> tuple[float, int]:
    # Every uvicorn worker process reads the same environment as the app it serves.
    settings = Settings()
    return settings.request_timeout, settings.max_header_bytes


class GuardedHttpProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with a deadline per request and a bound on the size of its headers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_timeout, self.max_header_bytes = _limits()
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._answered = False
        # uvicorn's own check (in on_headers_complete) is steered by limit_concurrency: see _admit.
        self.http_limit: int | None = self.limit_concurrency

    # A new connection must send its first request in time, as every request must arrive whole in time.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._admit()
        super().on_headers_complete()

    def _admit(self) -> None:
        """Let uvicorn answer 503 where HTTP alone is over its budget, whatever the WebSockets open.

        uvicorn answers 503 where ``len(connections) >= limit_concurrency`` (or its tasks): 0 makes it answer so,
        ``None`` lets the request in. An upgrade to a WebSocket never reaches that check.
        """
        if self.http_limit is None:
            return
        connections = sum(1 for c in self.connections if isinstance(c, HttpToolsProtocol))  # this one too
        requests = sum(1 for t in self.tasks if getattr(t.get_coro(), "cr_code", None) is _HTTP_REQUEST_CODE)
        self.limit_concurrency = 0 if max(connections, requests) >= self.http_limit else None

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        if not self._answered:  # the parser stopped because of the header limit, already answered 431
            super().send_400_response(msg)

    def _count(self, n_bytes: int) -> None:
        self._header_bytes += n_bytes
        if self._header_bytes > self.max_header_bytes:
            self._reject(431, "Request Header Fields Too Large", f"headers over {self.max_header_bytes} bytes")
            raise HeadersTooLargeError

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._on_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:  # no request under way: nothing has answered yet
            self._reject(408, "Request Timeout", f"request not received within {self.request_timeout:g} s")
        else:  # the app has the request and waits for its body: closing tells it the client is gone
            self.transport.close()

    def _reject(self, status: int, reason: str, message: str) -> None:
        self._answered = True
        body = message.encode()
        head = f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {len(body)}"
        self.transport.write(head.encode() + b"\r\nconnection: close\r\n\r\n" + body)
        self.transport.close()
