"""Networks of every kind trained once per session on small synthetic recordings (seconds on a CPU).

Each composes the real configuration of its kind, shrunk by ``debug=default``, with enough epochs to learn the
synthetic spikes. Torch and Lightning are imported inside the fixtures, so the torch-free tests here (inputs) still
run where the training extras are not installed; the tests that need the fixtures skip themselves at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cardiospike.data import simulate_recordings
from cardiospike.recording import Recording
from tests.conftest import network_config

if TYPE_CHECKING:
    from cardiospike.models.nn.lit import BeatNetModule

#: Longer than a debug run: the tests check that each network learns the spikes.
LEARN = ("model.nn.max_epochs=20", "model.nn.patience=20", "model.nn.epoch_beats=8192", "model.nn.lr=0.01")


def _fit(kind: str, train: list[Recording], valid: list[Recording]) -> BeatNetModule:
    pytest.importorskip("torch")
    pytest.importorskip("lightning")
    from cardiospike.models.nn.config import NetConfig
    from cardiospike.models.nn.lit import fit_network

    return fit_network(train, valid, NetConfig.from_dict(network_config(kind, *LEARN)))


@pytest.fixture(scope="session")
def nn_train() -> list[Recording]:
    return simulate_recordings(12, n_beats=400, seed=300)


@pytest.fixture(scope="session")
def nn_valid() -> list[Recording]:
    return simulate_recordings(4, n_beats=400, seed=400)


@pytest.fixture(scope="session")
def sequence_module(nn_train: list[Recording], nn_valid: list[Recording]) -> BeatNetModule:
    return _fit("sequence", nn_train, nn_valid)


@pytest.fixture(scope="session")
def cardionet_module(nn_train: list[Recording], nn_valid: list[Recording]) -> BeatNetModule:
    return _fit("cardionet", nn_train, nn_valid)


@pytest.fixture(scope="session")
def features_module(nn_train: list[Recording], nn_valid: list[Recording]) -> BeatNetModule:
    return _fit("features", nn_train, nn_valid)
