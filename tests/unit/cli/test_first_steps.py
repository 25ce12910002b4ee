"""A new user's first steps: ``demo -o`` writes a sample to try the commands on (and the package ships it), and
``serve`` says what it does in order: a busy port at once, the model's preparation before it, "Serving" once the
port takes connections."""

import contextlib
import io
import queue
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

import cardiospike
import cardiospike.cli.serve as serve_module
from cardiospike.cli import app
from cardiospike.data import read_recordings, simulate_recording
from cardiospike.data.synthetic import DEMO_BEATS, DEMO_SEED
from tests.server_process import free_port

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


# --- demo -o and the shipped sample ------------------------------------------------------------------------------


def test_the_shipped_sample_is_what_demo_writes(tmp_path: Path):
    out = tmp_path / "sample.csv"
    result = runner.invoke(app, ["demo", "-o", str(out)])  # the defaults: no --seed, no --n-beats
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == cardiospike.sample_path().read_bytes(), "regenerate: cardiospike demo -o <sample_path>"
    (recording,) = read_recordings(cardiospike.sample_path())
    assert (recording.id, len(recording)) == (f"synthetic-{DEMO_SEED}", DEMO_BEATS)


def test_the_sample_is_package_data():
    sample = cardiospike.sample_path()
    assert sample.is_file()
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["cardiospike"]
    relative = sample.relative_to(Path(cardiospike.__file__).parent).as_posix()
    assert any(fnmatch(relative, g) for g in globs), f"{relative} is not in [tool.setuptools.package-data]"


def test_demo_output_is_the_recording_demo_scores_with_its_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--seed", "3", "--n-beats", "300", "-o", "mine.csv"])
    assert result.exit_code == 0, result.output
    assert "to mine.csv" in result.output
    assert "cardiospike predict mine.csv -o scored.csv" in result.output  # what to do next, ready to paste
    (read,) = read_recordings(tmp_path / "mine.csv")
    expected = simulate_recording(300, seed=3)
    assert read.id == expected.id
    np.testing.assert_array_equal(read.rr, expected.rr)
    np.testing.assert_array_equal(read.time, expected.time)
    assert read.labels is not None
    assert expected.labels is not None
    np.testing.assert_array_equal(read.labels, expected.labels)


def test_demo_output_to_standard_output():
    result = runner.invoke(app, ["demo", "--n-beats", "5", "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("id,time,x,y\nsynthetic-7,0,")
    assert result.stdout.count("\n") == 6  # the header and 5 beats; the note went to standard error
    assert "standard output" in result.stderr


def test_demo_refuses_an_output_in_a_folder_that_does_not_exist(tmp_path: Path):
    out = tmp_path / "no such folder" / "sample.csv"
    result = runner.invoke(app, ["demo", "-o", str(out)])
    assert result.exit_code == 2
    assert result.output.startswith("Error: --output: folder "), result.output
    assert "does not exist" in result.output
    assert "Traceback" not in result.output
    assert not out.parent.exists()


# --- serve: the port, the model's preparation, "Serving" ---------------------------------------------------------


@pytest.fixture
def no_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("CARDIOSPIKE_HOST", "CARDIOSPIKE_PORT", "CARDIOSPIKE_WORKERS", "CARDIOSPIKE_MODEL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # bound and listening: another server
        yield int(listener.getsockname()[1])


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """What ``cardiospike serve`` prints, as it prints it (the announcer writes from a thread of its own)."""
    out = io.StringIO()
    monkeypatch.setattr(serve_module, "console", Console(file=out, width=200))
    return out


@pytest.mark.usefixtures("no_env")
def test_serve_on_a_busy_port_says_so_at_once(monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, busy_port: int):
    import cardiospike.serving.server as server

    monkeypatch.setattr(server, "run", lambda settings: pytest.fail("must not serve"))
    monkeypatch.setattr(serve_module, "prepare_model", lambda artifact: pytest.fail("must not prepare the model"))
    result = runner.invoke(app, ["serve", "--port", str(busy_port), "--model", str(tiny_model_dir)])
    assert result.exit_code == 2
    assert result.output == f"Error: port {busy_port} on 127.0.0.1 is in use: choose another with --port\n"


@pytest.mark.usefixtures("no_env")
def test_serve_says_serving_only_once_the_port_takes_connections(
    monkeypatch: pytest.MonkeyPatch, tiny_model_dir: Path, terminal: io.StringIO
):
    import cardiospike.serving.server as server

    port = free_port()
    seen: dict[str, str] = {}

    def run(settings: Any) -> None:  # as uvicorn: a while (the app's start-up), then the port listens
        time.sleep(0.5)
        seen["before listening"] = terminal.getvalue()
        with socket.create_server((settings.host, settings.port)):
            deadline = time.monotonic() + 10
            while "Serving" not in terminal.getvalue() and time.monotonic() < deadline:
                time.sleep(0.02)
            seen["while listening"] = terminal.getvalue()

    monkeypatch.setattr(server, "run", run)
    result = runner.invoke(app, ["serve", "--port", str(port), "--model", str(tiny_model_dir)])
    assert result.exit_code == 0, result.output
    assert "Serving" not in seen["before listening"]
    url = f"http://127.0.0.1:{port}"
    assert f"Serving the web app on {url}/ and the API (docs at {url}/docs), 1 worker(s)" in seen["while listening"]


def test_serve_says_it_prepares_the_model_before_compiling_it(monkeypatch: pytest.MonkeyPatch, terminal: io.StringIO):
    import cardiospike.detector as detector

    said_before: list[str] = []

    class Compiling:  # the Detector of a first start: it calls on_compile, then compiles for a while
        def __init__(self, artifact: object, on_compile: Any = None) -> None:
            on_compile("compiling the model's trees for this CPU, once (about 20 s); kept in /cache")
            said_before.append(terminal.getvalue())

    monkeypatch.setattr(detector, "Detector", Compiling)
    serve_module.prepare_model(object())  # type: ignore[arg-type]
    assert said_before == [
        "Preparing the model: compiling the model's trees for this CPU, once (about 20 s); kept in /cache\n"
    ]


def test_serve_stops_announcing_when_the_server_stops(monkeypatch: pytest.MonkeyPatch, terminal: io.StringIO):
    """A server that stops before it listens (uvicorn failed) leaves no announcer behind, and no "Serving"."""
    from cardiospike.serving.settings import Settings

    stop = threading.Event()
    announcer = threading.Thread(
        target=serve_module.announce_when_listening, args=(Settings(port=free_port()), stop), daemon=True
    )
    announcer.start()
    time.sleep(0.3)
    stop.set()
    announcer.join(timeout=2)
    assert not announcer.is_alive()
    assert terminal.getvalue() == ""


def test_base_url_brackets_ipv6():
    assert serve_module.base_url("::1", 8000) == "http://[::1]:8000"
    assert serve_module.base_url("0.0.0.0", 80) == "http://0.0.0.0:80"


@pytest.mark.integration
@pytest.mark.parametrize("workers", [1, 2])
def test_a_real_serve_answers_when_it_says_serving(tmp_path: Path, tiny_model_dir: Path, workers: int):
    """The whole command under uvicorn: the moment "Serving" is printed, a request is answered."""
    port = free_port()
    args = ["serve", "--port", str(port), "--workers", str(workers), "--model", str(tiny_model_dir)]
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as errors:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cardiospike.cli", *args], stdout=subprocess.PIPE, stderr=errors, cwd=tmp_path
        )
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:  # readline blocks: a thread of its own, so the test can give up on a silent server
            for line in proc.stdout or ():
                lines.put(line.decode())

        threading.Thread(target=read, daemon=True).start()
        try:
            deadline = time.monotonic() + 60
            printed: list[str] = []
            while not any("Serving" in line for line in printed):
                assert time.monotonic() < deadline, f"no 'Serving' after 60 s: {printed}\n{log.read_text()}"
                assert proc.poll() is None, f"serve exited with {proc.returncode}: {printed}\n{log.read_text()}"
                with contextlib.suppress(queue.Empty):
                    printed.append(lines.get(timeout=0.5))
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
            assert f"http://127.0.0.1:{port}/" in printed[-1]
            assert f"{workers} worker(s)" in printed[-1]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
