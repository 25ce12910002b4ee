"""Shared fixtures: small synthetic recordings, the real training configuration shrunk for tests, a tiny model.

As in lightning-hydra-template, tests compose the configuration the package ships (``cardiospike.conf``) with
``debug=default`` and a few overrides rather than writing configurations of their own, so every config group they
use is exercised. Hydra is imported inside the helpers: collecting the tests needs none of the training extras.

Compiled forests (``CARDIOSPIKE_CACHE_DIR``, :func:`cardiospike.models.forest.cache_dir`) go to one folder per test
run, set here before any model loads: every test and every process the tests start (servers, commands, Dask
workers: they inherit the environment) reads what the first load compiled, and the run removes the folder when it
ends. The user's cache (``~/.cache/cardiospike``, or a ``CARDIOSPIKE_CACHE_DIR`` of the shell) is never written.
``CARDIOSPIKE_TEST_CACHE_DIR`` names a folder to keep between runs instead, so that nothing compiles again.

Markers (``pyproject.toml``): ``real_data`` for a test that reads the real data (:func:`real_data`; skipped where it
is absent), ``integration`` for a test that runs whole processes (servers, clusters, commands).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cardiospike.data import recordings_to_frame, simulate_recordings, write_csv_atomic
from cardiospike.recording import Recording

if TYPE_CHECKING:
    from cardiospike.training.cv import TrainConfig

#: A folder kept between runs, where CARDIOSPIKE_TEST_CACHE_DIR names one; else None (a folder of this run).
KEPT_CACHE_DIR = os.environ.get("CARDIOSPIKE_TEST_CACHE_DIR") or None
#: Where this run's compiled forests go (see the module docstring); every process the tests start inherits it.
CACHE_DIR = Path(KEPT_CACHE_DIR or tempfile.mkdtemp(prefix="cardiospike-test-cache-")).absolute()
os.environ["CARDIOSPIKE_CACHE_DIR"] = str(CACHE_DIR)

#: Where the real data lives beside the checkout (override with CARDIOSPIKE_DATA).
DATA_DIR = Path(
    os.environ.get("CARDIOSPIKE_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike")
)


def debug_config(*overrides: str) -> TrainConfig:
    """The training configuration composed with ``debug=default`` (a quick run) and Hydra ``overrides``."""
    from cardiospike.training.config import compose_config, train_config

    return train_config(compose_config(["debug=default", *overrides]))


def network_config(kind: str, *overrides: str) -> dict[str, Any]:
    """The network configuration (``model.nn``) of ``debug_config`` for network kind ``kind``."""
    return debug_config(f"model/nn={kind}", *overrides).models["nn"]


@pytest.fixture(scope="session")
def recordings() -> list[Recording]:
    return simulate_recordings(8, n_beats=400, seed=100)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory, recordings: list[Recording]) -> Path:
    """A LightGBM model trained as ``cardiospike train debug=default model/nn=none`` trains one, on ``recordings``."""
    from cardiospike.training.run import train_model

    folder = tmp_path_factory.mktemp("model")
    data = folder / "train.csv"
    write_csv_atomic(recordings_to_frame(recordings), data)
    overrides = ["debug=default", "model/nn=none", f"data.path={data}", f"out={folder / 'tiny'}"]
    trained = train_model(overrides, command="pytest (tests/conftest.py)")
    assert isinstance(trained.location, Path)
    return trained.location


@pytest.fixture(scope="session")
def tiny_stack_dir(tmp_path_factory: pytest.TempPathFactory, recordings: list[Recording]) -> Path:
    """LightGBM and a feature network stacked, trained as ``cardiospike train debug=default`` trains them, on
    ``recordings``; the network scores windows of 64 beats (16 of context), so a few hundred beats hold many."""
    pytest.importorskip("torch")
    pytest.importorskip("lightning")
    from cardiospike.training.run import train_model

    folder = tmp_path_factory.mktemp("stack")
    data = folder / "train.csv"
    write_csv_atomic(recordings_to_frame(recordings), data)
    overrides = [
        "debug=default",
        "model/nn=features",
        "model.nn.crop_len=64",
        "model.nn.window_context=16",
        f"data.path={data}",
        f"out={folder / 'stack'}",
    ]
    trained = train_model(overrides, command="pytest (tests/conftest.py)")
    assert isinstance(trained.location, Path)
    return trained.location


def pytest_unconfigure(config: pytest.Config) -> None:
    if KEPT_CACHE_DIR is None:
        shutil.rmtree(CACHE_DIR, ignore_errors=True)


#: The test being run (its setup, call and teardown), for :func:`real_data` to check its marker.
_running: list[pytest.Item] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("real_data") is not None and not DATA_DIR.is_dir():
        pytest.skip(f"real data not found in {DATA_DIR} (set CARDIOSPIKE_DATA to the folder holding it)")


def real_data(name: str) -> Path:
    """Path of a real data file, or skip the test with the reason. The test must be marked ``real_data``."""
    if _running and _running[-1].get_closest_marker("real_data") is None:
        pytest.fail(f"{_running[-1].nodeid} reads the real data ({name}): mark it real_data", pytrace=False)
    path = DATA_DIR / name
    if not path.is_file():
        pytest.skip(f"real data not found at {path} (set CARDIOSPIKE_DATA to the folder holding {name})")
    return path
