"""Request body size limit, enforced before the app reads the body."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cardiospike.serving.errors import error_json


class BodySizeLimit:
    """Answer 413 to a body larger than ``max_bytes``, by its ``Content-Length`` or, when chunked, as it streams in.

    The body is read here, up to the limit, and replayed to the app: FastAPI turns any exception raised while it
    reads a body into a 400, so the limit cannot be enforced from inside a ``receive`` wrapper. Buffering costs at
    most ``max_bytes`` per request, which every route needs in memory anyway (JSON and CSV are parsed whole).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, receive, send, f"{int(declared)} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(scope, receive, send, f"more than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # later calls wait for the client's disconnect, as streaming responses expect
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, size: str) -> None:
        response = error_json(
            413, f"request body too large: {size}, the limit is {self.max_bytes} bytes (setting max_body_bytes)"
        )
        await response(scope, receive, send)
