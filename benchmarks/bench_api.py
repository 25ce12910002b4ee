"""Latency and throughput of ``POST /api/v1/predict`` against a real uvicorn on 127.0.0.1.

Usage: python benchmarks/bench_api.py [--model DIR] [--beats 1000] [--requests 500] [--seconds 30] [--clients 16]

1. One worker, sequential requests (one keep-alive connection): p50 and p99 latency, client side.
2. Two workers, ``--clients`` concurrent asyncio clients for ``--seconds``: requests per second, p50 and p99 latency
   and errors; the client shares the cores with the server.
3. The same with the client pinned apart: the server (its workers) on every core but the last, the client on the
   last (on a 2-core machine: one worker's core against the client's).
4. The ceiling the model sets: the seconds one core takes to score one request's recording in process
   (``Detector.score``), so at most ``cores / that`` requests per second whatever the server does.

The server is started by this script (``cardiospike serve``) on a free loopback port and stopped after each part;
every loop is bounded in count or time. The model is the shipped default where it exists, else a tiny model trained
here on synthetic data as tests/conftest.py trains it (said so in the results). Results go to stdout and to
benchmarks/results/api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from cardiospike.data import simulate_recording
from cardiospike.detector import default_model_path

ROOT = Path(__file__).resolve().parents[1]
URL_PATH = "/api/v1/predict"
TARGETS = {"p50_ms": 20.0, "p99_ms": 50.0, "rps": 100.0}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(model: Path, workers: int, cores: list[int] | None = None) -> Iterator[str]:
    """``cardiospike serve`` on a free loopback port (on ``cores`` only, where given), until the block ends (at most
    60 s to get ready)."""
    port = free_port()
    args = ["-m", "cardiospike.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, "CARDIOSPIKE_LOG_LEVEL": "warning"}  # no access log: the benchmark measures serving
    pin = ["taskset", "-c", ",".join(map(str, cores))] if cores else []
    proc = subprocess.Popen(
        [*pin, sys.executable, *args, "--workers", str(workers), "--model", str(model)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if httpx.get(f"{url}/ready", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not get ready (exit code {proc.poll()})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def sequential(url: str, body: dict[str, object], n: int) -> list[float]:
    """Latencies (s) of ``n`` requests one after another on one connection, after 20 warm-up requests."""
    latencies = []
    with httpx.Client(base_url=url, timeout=10.0) as client:
        for i in range(n + 20):
            start = time.perf_counter()
            response = client.post(URL_PATH, json=body)
            elapsed = time.perf_counter() - start
            response.raise_for_status()
            if i >= 20:
                latencies.append(elapsed)
    return latencies


async def concurrent(url: str, body: dict[str, object], clients: int, seconds: float) -> tuple[list[float], int, float]:
    """(latencies (s) of the successes, errors, elapsed s) of ``clients`` loops posting until ``seconds`` passed."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=10.0, limits=limits) as client:
        deadline = time.monotonic() + seconds

        async def one_client() -> None:
            nonlocal errors
            while time.monotonic() < deadline:
                try:
                    sent = time.perf_counter()
                    response = await client.post(URL_PATH, json=body)
                    if response.status_code == 200:
                        latencies.append(time.perf_counter() - sent)
                    else:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1

        start = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return latencies, errors, time.monotonic() - start


def in_process_seconds(model: Path, body: dict[str, object], repeats: int = 200) -> float:
    """Median seconds of ``Detector.score`` on the request's recording, on one core (after 20 warm-up calls)."""
    from cardiospike.detector import load_detector
    from cardiospike.recording import Recording

    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everything)})
    try:
        detector = load_detector(model)
        recording = Recording.from_rr(np.asarray(body["sequence"], dtype=np.float64))
        times = []
        for i in range(repeats + 20):
            start = time.perf_counter()
            detector.score(recording)
            if i >= 20:
                times.append(time.perf_counter() - start)
    finally:
        os.sched_setaffinity(0, everything)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--beats", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    model = args.model or default_model_path()
    model_note = f"`{args.model}`" if args.model else "the shipped default model"
    body = {"study": "bench", "sequence": np.round(simulate_recording(args.beats, seed=0).rr, 1).tolist()}

    with server(model, workers=1) as url:
        latencies = np.array(sequential(url, body, args.requests)) * 1e3
    p50, p99 = np.percentile(latencies, [50, 99])
    with server(model, workers=2) as url:
        loaded, errors, elapsed = asyncio.run(concurrent(url, body, args.clients, args.seconds))
    ok = len(loaded)
    rps = ok / elapsed
    load_p50, load_p99 = np.percentile(np.array(loaded) * 1e3, [50, 99])
    cores = sorted(os.sched_getaffinity(0))
    server_cores, client_core = cores[:-1] or cores, cores[-1]
    with server(model, workers=2, cores=server_cores) as url:
        everything = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {client_core})
        try:
            apart, apart_errors, apart_elapsed = asyncio.run(concurrent(url, body, args.clients, args.seconds))
        finally:
            os.sched_setaffinity(0, everything)
    apart_rps = len(apart) / apart_elapsed
    apart_p50, apart_p99 = np.percentile(np.array(apart) * 1e3, [50, 99])
    score_s = in_process_seconds(model, body)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    command = shlex.join(["python", "benchmarks/bench_api.py", *sys.argv[1:]])
    lines = [
        "# REST API: latency and throughput of POST /api/v1/predict",
        "",
        f"- command: `{command}`",
        f"- model: {model_note}",
        f"- input: one synthetic recording of {args.beats} beats per request "
        f"(JSON, about {len(str(body)) // 1024} KiB)",
        "- server: `cardiospike serve` (uvicorn) on 127.0.0.1, access log off, `CARDIOSPIKE_JOBS` at its default; "
        "client: httpx on the same machine",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) at the end: {load}",
        "",
        "| measure | value | target |",
        "| --- | ---: | --- |",
        f"| 1 worker, sequential, p50 latency | {p50:.1f} ms | <= {TARGETS['p50_ms']:.0f} ms: "
        f"{verdict(p50 <= TARGETS['p50_ms'])} |",
        f"| 1 worker, sequential, p99 latency | {p99:.1f} ms | <= {TARGETS['p99_ms']:.0f} ms: "
        f"{verdict(p99 <= TARGETS['p99_ms'])} |",
        f"| 1 worker, sequential, requests | {latencies.size} (after 20 warm-up) | |",
        f"| 2 workers, {args.clients} concurrent clients, {elapsed:.0f} s: throughput | {rps:.0f} requests/s | "
        f">= {TARGETS['rps']:.0f}/s: {verdict(rps >= TARGETS['rps'])} |",
        f"| 2 workers, {args.clients} concurrent clients: p50 / p99 latency | {load_p50:.0f} / {load_p99:.0f} ms | |",
        f"| 2 workers, {args.clients} concurrent clients: errors | {errors} of {ok + errors} | 0 |",
        f"| 2 workers on core(s) {','.join(map(str, server_cores))}, the client apart on core {client_core}: "
        f"throughput | {apart_rps:.0f} requests/s | >= 300/s: {verdict(apart_rps >= 300)} |",
        f"| the same: p50 / p99 latency | {apart_p50:.0f} / {apart_p99:.0f} ms | p99 <= 50 ms: "
        f"{verdict(apart_p99 <= 50)} |",
        f"| the same: errors | {apart_errors} of {len(apart) + apart_errors} | 0 |",
        f"| the model alone, one core: one request's {args.beats} beats scored in process | {score_s * 1e3:.1f} ms | |",
        f"| the ceiling it sets on {os.cpu_count()} cores (cores / that, nothing else running) | "
        f"{(os.cpu_count() or 1) / score_s:.0f} requests/s | |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).with_name("results") / "api.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
