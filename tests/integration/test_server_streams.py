"""Open live streams cannot take the HTTP API down: ``cardiospike serve`` (uvicorn) with hundreds of WebSockets open.

uvicorn's ``limit_concurrency`` counted every WebSocket among its connections: 99 idle streams and ``/health``,
``/ready`` and ``/api/v1/predict`` answered 503. Here 300 keyed streams (the stream cap is 256: the others are refused
1013) and 300 sockets without a key (waiting for it, bounded apart by the same cap) are open at once, and HTTP keeps
its whole budget: ``limit_concurrency`` (10 here) HTTP connections, beyond which it answers 503 as before.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ..server_process import serving

pytestmark = pytest.mark.integration

KEY = "stream-test-key"
STREAMS = 300
CAP = 256  # stream_max_connections by default
HEADERS = {"X-API-Key": KEY}
HTTP_LIMIT = 10


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("streams") / "server.log"
    # A long key deadline: the keyless sockets stay open, waiting, while HTTP is checked.
    env = {
        "CARDIOSPIKE_API_KEY": KEY,
        "CARDIOSPIKE_STREAM_AUTH_TIMEOUT": "120",
        "CARDIOSPIKE_LIMIT_CONCURRENCY": str(HTTP_LIMIT),
        "CARDIOSPIKE_LOG_LEVEL": "warning",
    }
    with serving(tiny_model_dir, log, env) as url:
        yield url


async def _open(url: str, n: int, headers: dict[str, str] | None) -> list[ClientConnection]:
    gate = asyncio.Semaphore(50)  # handshakes 50 at a time: the point is how many are open, not how fast

    async def one() -> ClientConnection:
        async with gate:
            return await connect(url, additional_headers=headers, proxy=None, open_timeout=30, ping_interval=None)

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _first_message(ws: ClientConnection, wait: float) -> dict[str, Any] | None:
    """The first message of ``ws`` within ``wait`` seconds (None: none came)."""
    try:
        return dict(json.loads(await asyncio.wait_for(ws.recv(), wait)))
    except TimeoutError:
        return None
    except ConnectionClosed:  # closed with no message first
        return {"type": "closed"}


async def _scenario(base: str) -> dict[str, Any]:
    ws_url = base.replace("http://", "ws://") + "/api/v1/stream"
    keyed = await _open(ws_url, STREAMS, HEADERS)
    keyed_first = await asyncio.gather(*(_first_message(ws, 10.0) for ws in keyed))
    keyless = await _open(ws_url, STREAMS, None)
    keyless_first = await asyncio.gather(*(_first_message(ws, 3.0) for ws in keyless))
    try:
        # One keep-alive connection, well within HTTP's budget: every answer must be a 200.
        async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
            health = [await client.get("/health") for _ in range(20)]
            ready = await client.get("/ready")
            predict = await client.post(
                "/api/v1/predict", json={"study": "s", "sequence": [812.0, 790.0, 805.0]}, headers=HEADERS
            )
            metrics = await client.get("/metrics")
        # HTTP's own budget still holds: with HTTP_LIMIT connections open besides, a new request gets 503.
        host, port = base.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(HTTP_LIMIT)]
        try:
            await asyncio.sleep(0.5)  # the server has taken them
            async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
                over = await client.get("/health")
        finally:
            for sock in idle:
                sock.close()
    finally:
        await asyncio.gather(*(ws.close() for ws in keyed + keyless), return_exceptions=True)
    return {
        "keyed": keyed_first,
        "keyless": keyless_first,
        "health": [r.status_code for r in health],
        "ready": ready.status_code,
        "predict": (predict.status_code, predict.text),
        "metrics": metrics.status_code,
        "over_http_limit": over.status_code,
    }


def test_hundreds_of_open_streams_leave_http_its_budget(server: str):
    # In a thread of its own: an earlier test (the browser's) may have left an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, _scenario(server)).result()
    keyed_types = [m["type"] if m else None for m in seen["keyed"]]
    assert keyed_types.count("ready") == CAP
    refused = [m for m in seen["keyed"] if m and m["type"] == "error"]
    assert len(refused) == STREAMS - CAP
    assert {m["code"] for m in refused} == {1013}
    # Without a key: nothing is sent (no ready) while they wait; beyond the cap of those waiting, 1013.
    waiting = [m for m in seen["keyless"] if m is None]
    refused = [m for m in seen["keyless"] if m is not None]
    assert len(waiting) == CAP
    assert {m.get("code") for m in refused} == {1013}
    assert len(refused) == STREAMS - CAP
    assert seen["health"] == [200] * 20
    assert seen["ready"] == 200
    assert seen["predict"][0] == 200, seen["predict"][1]
    assert json.loads(seen["predict"][1])["summary"]["n_beats"] == 3
    assert seen["metrics"] == 200
    assert seen["over_http_limit"] == 503
