"""Hostile and careless requests against a real ``cardiospike serve`` (one worker, default settings) on 127.0.0.1.

Usage: python benchmarks/bench_hostile.py [--model DIR] [--seconds 30]

1. Each hostile request once: status and time to answer (target: a 4xx within 1 s).
2. The slowest hostile upload of part 1 sent in a loop by 4 clients for ``--seconds`` while a fifth client asks
   ``/health`` every 20 ms: its p50, p99 and maximum latency (target: p99 <= 50 ms).
3. 200 connections that start a request and never finish it: how long until the server has closed them all.
4. 20 clients that send a 100,000-beat request and leave at once: the server's CPU time spent on them.
5. 300 live streams (WebSockets) opened and held, more than ``stream_max_connections`` (256): how many are served
   and refused (1013), then ``/health`` and ``/api/v1/predict`` while they are open: statuses and latencies (target:
   every answer 200; uvicorn once counted streams in ``limit_concurrency`` and answered 503 from 99 streams on).

Every loop is bounded in time or count. Results go to stdout and benchmarks/results/hostile.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import shlex
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench_api import server
from cardiospike.data import simulate_recording
from cardiospike.detector import default_model_path

Request = tuple[str, dict[str, str], bytes, dict[str, tuple[str, bytes]] | None]


def _json(body: bytes) -> Request:
    return "/api/v1/predict", {"Content-Type": "application/json"}, body, None


def _upload(url: str, name: str, content: bytes) -> Request:
    return url, {}, b"", {"file": (name, content)}


def hostile_requests() -> dict[str, Callable[[], Request]]:
    wide = (",".join(f"c{i}" for i in range(40_000)) + "\n1\n").encode()
    one_beat = b"id,x\n" + b"".join(b"%d,800\n" % i for i in range(700_000))
    return {
        "CSV header of 40,000 columns (batch)": lambda: _upload("/api/v1/predict/batch", "w.csv", wide),
        "CSV header of 40,000 columns (parse)": lambda: _upload("/api/v1/recordings/parse", "w.csv", wide),
        "8 MB of JSON zeros in `sequence`": lambda: _json(b'{"study": "a", "sequence": [' + b"0," * 4_000_000 + b"0]}"),
        "8 MB of JSON strings in `sequence`": lambda: _json(
            b'{"study": "a", "sequence": [' + b'"a",' * 2_000_000 + b'"a"]}'
        ),
        "8 MB of empty JSON lists in `sequence`": lambda: _json(
            b'{"study": "a", "sequence": [' + b"[]," * 2_700_000 + b"[]]}"
        ),
        "JSON nested 100,000 deep (parse)": lambda: _upload(
            "/api/v1/recordings/parse", "n.json", b"[" * 100_000 + b"]" * 100_000
        ),
        "700,000 one-beat recordings, 7.6 MB (batch)": lambda: _upload("/api/v1/predict/batch", "m.csv", one_beat),
        "700,000 one-beat recordings, 7.6 MB (parse)": lambda: _upload("/api/v1/recordings/parse", "m.csv", one_beat),
        "RR of 2^63 in an upload (batch)": lambda: _upload(
            "/api/v1/predict/batch", "b.csv", b"x\n800\n9223372036854775808\n"
        ),
        **probe_uploads(),
    }


def probe_uploads() -> dict[str, Callable[[], Request]]:
    """Inputs that once made a reader loop, allocate or run quadratic (each now a 4xx at once)."""

    def word(code: int, value: int = 0) -> bytes:  # one 16-bit word of a WFDB annotation stream
        return struct.pack("<H", (code << 10) | value)

    # An annotation at sample 0 whose note starts "## ": wfdb's reader of definitions loops on it for ever.
    hello = word(22) + word(63, 8) + b"## hello" + word(0)
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "<f8", "fortran_order": False, "shape": (10**13,)})
    huge_npy = npy.getvalue() + bytes(64)  # 192 bytes that declare 72.8 TiB
    wide_hrm = b"[Params]\nVersion=106\nInterval=238\n[HRData]\n" + b"800\t" * 30_000 + b"800\n"
    long_line = b"800 " * 2_000_000  # 8 MB of RR on one line: read, then refused as more beats than max_beats
    keys = b"{" + b",".join(b'"k%d": 1' % i for i in range(200_000)) + b', "rr": [800]}'
    ndjson = (b"{" + b",".join(b'"k%d": 1' % i for i in range(100_000)) + b', "rr": 800}\n') * 3
    fit = bytearray(14) + bytes(2_000)  # a FIT header that claims data the file does not hold
    fit[0], fit[8:12] = 14, b".FIT"
    fit[4:8] = struct.pack("<I", 100_000)
    parse = "/api/v1/recordings/parse"
    return {
        "WFDB annotation of 24 bytes, a note '## hello' (parse)": lambda: _upload(parse, "a.atr", hello),
        ".npy header claiming 10^13 values (parse)": lambda: _upload(parse, "a.npy", huge_npy),
        "Polar HRM line of 30,000 values, 120 KB (parse)": lambda: _upload(parse, "a.hrm", wide_hrm),
        "text of 2,000,000 RR on one line, 8 MB (parse)": lambda: _upload(parse, "a.txt", long_line),
        "JSON object of 200,000 keys (parse)": lambda: _upload(parse, "a.json", keys),
        "NDJSON of 100,000 keys a line, 3.9 MB (parse)": lambda: _upload(parse, "a.ndjson", ndjson),
        "FIT whose header claims missing data (parse)": lambda: _upload(parse, "a.fit", bytes(fit)),
    }


def send(client: httpx.Client, request: Request) -> tuple[int, float]:
    path, headers, body, files = request
    start = time.perf_counter()
    response = client.post(path, headers=headers, content=body or None, files=files)
    return response.status_code, time.perf_counter() - start


async def health_under_load(url: str, request: Request, seconds: float) -> tuple[np.ndarray, int, int]:
    """(health latencies in ms, hostile requests answered, hostile answers that were not 4xx)."""
    path, headers, body, files = request
    latencies: list[float] = []
    answered = not_4xx = 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:

        async def attacker() -> None:
            nonlocal answered, not_4xx
            while time.monotonic() < deadline:
                response = await client.post(path, headers=headers, content=body or None, files=files)
                answered += 1
                not_4xx += not 400 <= response.status_code < 500

        async def prober() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=60.0) as own:  # a connection of its own
                while time.monotonic() < deadline:
                    start = time.perf_counter()
                    (await own.get("/health")).raise_for_status()
                    latencies.append((time.perf_counter() - start) * 1e3)
                    await asyncio.sleep(0.02)

        await asyncio.gather(prober(), *(attacker() for _ in range(4)))
    return np.array(latencies), answered, not_4xx


def idle_connections(url: str, n: int = 200, limit_s: float = 90.0) -> float:
    """Seconds until the server has closed ``n`` connections that each sent half a request line and stopped."""
    host, port = url.removeprefix("http://").split(":")
    socks = []
    for _ in range(n):
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sock.setblocking(False)
        socks.append(sock)
    start = time.monotonic()
    open_socks = set(socks)
    while open_socks and time.monotonic() - start < limit_s:
        for sock in list(open_socks):
            try:
                if sock.recv(4096) == b"":
                    open_socks.discard(sock)
                    sock.close()
            except BlockingIOError:
                pass
            except OSError:
                open_socks.discard(sock)
        time.sleep(0.1)
    for sock in open_socks:
        sock.close()
    return time.monotonic() - start if not open_socks else float("inf")


def server_cpu_seconds(url: str) -> float:
    """User + system CPU seconds of the process listening on ``url``'s port (read from /proc)."""
    port = int(url.rsplit(":", 1)[1])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmdline and str(port).encode() in cmdline:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    raise RuntimeError("server process not found")


def abandoned(url: str, n: int = 20) -> float:
    """Server CPU seconds spent on ``n`` 100,000-beat requests whose clients leave right after sending them."""
    rr = np.round(simulate_recording(100_000, seed=1).rr, 1).tolist()
    body = json.dumps({"study": "gone", "sequence": rr}).encode()
    host, port = url.removeprefix("http://").split(":")
    before = server_cpu_seconds(url)
    for _ in range(n):
        with socket.create_connection((host, int(port))) as sock:
            head = "POST /api/v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            sock.sendall(head.encode() + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    time.sleep(5)  # what the server still does for them happens now
    return server_cpu_seconds(url) - before


async def _first_message(ws: ClientConnection, wait: float) -> dict[str, object] | None:
    """The first message of a stream within ``wait`` seconds (None: none came)."""
    try:
        return dict(json.loads(await asyncio.wait_for(ws.recv(), wait)))
    except TimeoutError:
        return None
    except ConnectionClosed:
        return {"type": "closed"}


@dataclass
class StreamsOpen:
    """What part 5 saw: streams served and refused, then the answers of HTTP while they were open."""

    served: int
    refused: int
    health_ms: np.ndarray
    health_status: list[int]
    predict_ms: np.ndarray
    predict_status: list[int]


async def streams_open(url: str, n: int = 300, probes: int = 200, predicts: int = 20) -> StreamsOpen:
    """Open ``n`` live streams and hold them; then ``/health`` ``probes`` times and ``predicts`` 1,000-beat predicts,
    one after another on one connection."""
    ws_url = url.replace("http://", "ws://") + "/api/v1/stream"
    gate = asyncio.Semaphore(50)  # handshakes 50 at a time

    async def one() -> ClientConnection:
        async with gate:
            return await connect(ws_url, proxy=None, open_timeout=60, ping_interval=None)

    sockets = list(await asyncio.gather(*(one() for _ in range(n))))
    firsts = await asyncio.gather(*(_first_message(ws, 10.0) for ws in sockets))
    body = {"study": "s", "sequence": np.round(simulate_recording(1_000, seed=2).rr, 1).tolist()}
    health_ms: list[float] = []
    predict_ms: list[float] = []
    health_status: list[int] = []
    predict_status: list[int] = []
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
            for _ in range(probes):
                start = time.perf_counter()
                response = await client.get("/health")
                health_ms.append((time.perf_counter() - start) * 1e3)
                health_status.append(response.status_code)
                await asyncio.sleep(0.02)
            for _ in range(predicts):
                start = time.perf_counter()
                response = await client.post("/api/v1/predict", json=body)
                predict_ms.append((time.perf_counter() - start) * 1e3)
                predict_status.append(response.status_code)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return StreamsOpen(
        served=sum(1 for m in firsts if m is not None and m.get("type") == "ready"),
        refused=sum(1 for m in firsts if m is not None and m.get("code") == 1013),
        health_ms=np.array(health_ms),
        health_status=health_status,
        predict_ms=np.array(predict_ms),
        predict_status=predict_status,
    )


def _statuses(codes: list[int]) -> str:
    """``200 x 200`` or ``200 x 150, 503 x 50``."""
    values, counts = np.unique(codes, return_counts=True)
    return ", ".join(f"{v} x {c}" for v, c in zip(values, counts, strict=True))


def _streams_line(seen: StreamsOpen) -> str:
    met = "met" if all(c == 200 for c in seen.health_status + seen.predict_status) else "**missed**"
    health, predict = seen.health_ms, seen.predict_ms
    return (
        f"300 live streams opened and held (`stream_max_connections` 256): {seen.served} served, {seen.refused} "
        f"refused (1013). While they are open, `/health` every 20 ms: {_statuses(seen.health_status)} (p50 "
        f"{np.percentile(health, 50):.1f} ms, p99 {np.percentile(health, 99):.1f} ms); 1,000-beat predicts one "
        f"after another: {_statuses(seen.predict_status)} (p50 {np.percentile(predict, 50):.0f} ms); target: every "
        f"answer 200: {met}."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    model = args.model or default_model_path()

    rows, timings = [], {}
    requests = {name: make() for name, make in hostile_requests().items()}
    with server(model, workers=1) as url:
        with httpx.Client(base_url=url, timeout=120.0) as client:
            for name, request in requests.items():
                status, seconds = send(client, request)
                timings[name] = seconds
                verdict = "met" if 400 <= status < 500 and seconds <= 1.0 else "**missed**"
                rows.append(f"| {name} | {status} | {seconds * 1e3:.0f} ms | {verdict} |")
                print(rows[-1], flush=True)
        uploads = [name for name, request in requests.items() if request[3] is not None]
        worst = max(uploads, key=lambda k: timings[k])
        health, answered, not_4xx = asyncio.run(health_under_load(url, requests[worst], args.seconds))
        closed_after = idle_connections(url)
        cpu = abandoned(url)
        streams = asyncio.run(streams_open(url))

    p50, p99, worst_ms = np.percentile(health, 50), np.percentile(health, 99), health.max()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    command = shlex.join(["python", "benchmarks/bench_hostile.py", *sys.argv[1:]])
    lines = [
        "# Hostile and careless requests against the service",
        "",
        f"- command: `{command}`",
        "- server: `cardiospike serve` (one uvicorn worker, default settings, the shipped model) on 127.0.0.1",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) at the end: {load}",
        "",
        "| request, sent once | status | time to answer | target (a 4xx within 1 s) |",
        "| --- | ---: | ---: | --- |",
        *rows,
        "",
        f"`/health` every 20 ms while 4 clients send the slowest upload of these ({worst}) in a loop for "
        f"{args.seconds:.0f} s: {health.size} probes, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst_ms:.1f} ms "
        f"(target p99 <= 50 ms: {'met' if p99 <= 50 else '**missed**'}); {answered} hostile requests answered, "
        f"{not_4xx} of them not 4xx.",
        "",
        f"200 connections that stop in the middle of their headers: all closed by the server after "
        f"{closed_after:.1f} s (setting request_timeout, 30 s by default).",
        "",
        f"20 clients that send a 100,000-beat request and leave at once: {cpu:.2f} s of server CPU in all.",
        "",
        _streams_line(streams),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).with_name("results") / "hostile.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
