"""The service as deployed: ``cardiospike serve`` in its own process, uvicorn on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

pytestmark = pytest.mark.integration

#: RR values no log line may contain (the access log has method, path and status only).
SECRET_RR = [812.125, 790.375, 4242.875]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/ready", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server not ready after {timeout} s:\n{log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def start(args: list[str], log: IO[bytes], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *args], stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
    )


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("wb") as handle:
        args = ["-m", "cardiospike.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        proc = start([*args, "--model", str(tiny_model_dir)], handle)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, proc, log)
            yield url, log
        finally:
            stop(proc)


def test_scores_over_http_and_logs_no_values(server: tuple[str, Path]):
    url, log = server
    with httpx.Client(base_url=url, timeout=10.0) as client:
        ok = client.post("/api/v1/predict", json={"study": "s", "sequence": SECRET_RR})
        assert ok.status_code == 200, ok.text
        assert ok.json()["summary"]["n_beats"] == 3
        legacy = client.post("/predict", json={"study": "s", "sequence": SECRET_RR})
        assert set(legacy.json()) == {"study", "anomaly_proba", "anomaly_thresh", "errors"}
        bad = client.post("/api/v1/predict", json={"study": "s", "sequence": [*SECRET_RR, -1]})
        assert bad.status_code == 422
        csv = b"id,time,x\na,0,812.125\na,812.125,790.375\n"
        batch = client.post("/api/v1/predict/batch", files={"file": ("r.csv", csv)})
        assert batch.text.splitlines()[0] == "id,time,x,y,anomaly_proba,error"
        assert "cardiospike_beats_scored_total 8.0" in client.get("/metrics").text
        assert client.get("/docs").status_code == 200
    text = log.read_text()
    assert '"POST /api/v1/predict HTTP/1.1" 200' in text  # the access log is on
    assert '"POST /api/v1/predict HTTP/1.1" 422' in text
    for value in SECRET_RR:
        assert str(value) not in text


def test_wrong_model_fails_at_start_up(tmp_path: Path):
    # uvicorn started directly (not through `cardiospike serve`, which checks the model first): the lifespan fails.
    log = tmp_path / "server.log"
    with log.open("wb") as handle:
        args = ["-m", "uvicorn", "--factory", "cardiospike.serving.app:create_app", "--port", str(free_port())]
        proc = start(args, handle, env={"CARDIOSPIKE_MODEL": str(tmp_path / "nowhere")})
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                stop(proc)
    assert proc.returncode != 0
    text = log.read_text()
    assert "cannot load the model from" in text
    assert "nowhere" in text
    assert "does not exist" in text
