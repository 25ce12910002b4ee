"""The service as deployed: ``cardiospike serve`` in its own process, uvicorn on a free port of 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..server_process import free_port, serving, start, stop

pytestmark = pytest.mark.integration

#: RR values no log line may contain (the access log has method, path and status only).
SECRET_RR = [812.125, 790.375, 4242.875]


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("server") / "server.log"
    with serving(tiny_model_dir, log) as url:
        yield url, log


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


@pytest.fixture(scope="module")
def strict_server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("strict") / "server.log"
    env = {"CARDIOSPIKE_REQUEST_TIMEOUT": "1", "CARDIOSPIKE_MAX_HEADER_BYTES": "2048"}
    with serving(tiny_model_dir, log, env) as url:
        yield url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


#: How long a test waits for strict_server to close a connection: its deadline (1 s) many times over, for a loaded
#: machine, yet half the default deadline (30 s), which a server that ignored its setting would wait for.
CLOSE_WAIT = 15.0


def _read_until_closed(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection; the test fails where it is still open (and silent)."""
    sock.settimeout(CLOSE_WAIT)
    try:
        return _read_all(sock)
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {CLOSE_WAIT:g} s without a word")


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /health HTTP/1.1\r\nHost: x\r\n", b"POST /api/v1/predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"],
)
def test_a_request_that_never_arrives_whole_is_closed(strict_server: str, sent: bytes):
    with _connect(strict_server) as sock:
        sock.sendall(sent)
        answer = _read_until_closed(sock)  # the server closes it: the client never would
    if not sent.endswith(b"{"):  # nothing had reached the app yet: a 408 says why, and which deadline passed
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert answer.endswith(b"request not received within 1 s"), answer


def test_headers_over_the_limit_are_431(strict_server: str):
    with _connect(strict_server) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
        answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431"), answer
    assert httpx.get(f"{strict_server}/health").status_code == 200  # and the server is fine


def test_a_slow_but_steady_request_within_the_deadline_is_served(strict_server: str):
    with _connect(strict_server) as sock:
        for part in (b"GET /health HTTP/1.1\r\n", b"Host: x\r\n", b"\r\n"):
            sock.sendall(part)
            time.sleep(0.2)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
