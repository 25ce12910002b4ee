"""A real PostgreSQL server for the search tests, started once per session in a temporary folder, and helpers to
run search workers as processes of their own.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user (``runuser``) in a folder that
user owns. Where the binaries are missing the tests that need the server are skipped with the reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path

import optuna
import pytest
import yaml

from ..server_process import free_port

#: A ~1 s trial on simulated recordings, with a heartbeat short enough to notice a dead worker in seconds.
QUICK = ["search_debug=quick", "data.synthetic.enabled=true", "heartbeat.interval=1", "heartbeat.grace_period=3"]
#: The parameters a trial of the default search space samples (conf/search_space/lgbm.yaml), one by one.
SAMPLED = len(yaml.safe_load((files("cardiospike") / "conf/search_space/lgbm.yaml").read_text())["params"])


def postgres_bin() -> Path | None:
    """The folder of the newest PostgreSQL server binaries (Debian's layout first, then the PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run(cmd: Sequence[str | Path]) -> None:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a database on a PostgreSQL server on a free port of 127.0.0.1, stopped after the session."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql): no PostgreSQL tests")
    root = Path(tempfile.mkdtemp(prefix="cardiospike-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    # Durability buys nothing in a throw-away server; without it commits are much faster.
    options = f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    _run([*as_user, bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
    _run([*as_user, bindir / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "-o", options, "start"])
    try:
        _run([*as_user, bindir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "search"])
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/search"
    finally:
        _run([*as_user, bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


def worker(storage: str, study: str, *overrides: str) -> subprocess.Popen[str]:
    """``cardiospike search run`` in a process of its own (output captured)."""
    cmd = [sys.executable, "-m", "cardiospike.cli", "search", "run", f"storage={storage}", f"study={study}", *QUICK]
    return subprocess.Popen([*cmd, *overrides], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_running_trial(storage: str, study: str, proc: subprocess.Popen[str], timeout: float = 60) -> int:
    """Number of the first trial seen RUNNING with all its parameters sampled (so that it is mid-cross-validation:
    a trial is stored as its parameters are suggested, one by one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            trials = optuna.load_study(study_name=study, storage=storage).get_trials(
                deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)
            )
        except KeyError:  # the worker has not created the study yet
            trials = []
        if running := [t for t in trials if len(t.params) == SAMPLED]:
            return running[0].number
        time.sleep(0.05)
    raise AssertionError("no trial started")
