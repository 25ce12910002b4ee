"""Tiny networks trained once per session on small synthetic recordings (seconds on a CPU).

Torch and Lightning are imported inside the fixtures, so the torch-free tests here (inputs) still run where the
training extras are not installed; the tests that need the fixtures skip themselves at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from cardiospike.data import simulate_recordings
from cardiospike.recording import Recording

if TYPE_CHECKING:
    from cardiospike.models.nn.lit import BeatNetModule

TINY_SEQUENCE: dict[str, Any] = {
    "kind": "sequence",
    "channels": 16,
    "dilations": (1, 2, 4),
    "gru_hidden": 8,
    "crop_len": 128,
    "batch_size": 8,
    "max_epochs": 25,
    "patience": 25,
    "lr": 1e-2,
    "n_jobs": 1,
}
TINY_CARDIONET: dict[str, Any] = {
    "kind": "cardionet",
    "conv_channels": 8,
    "gru_hidden": 8,
    "mlp_hidden": 16,
    "batch_size": 128,
    "max_epochs": 6,
    "patience": 6,
    "lr": 5e-3,
    "n_jobs": 1,
}
TINY_FEATURES: dict[str, Any] = {
    "kind": "features",
    "channels": 16,
    "gru_hidden": 8,
    "dropout": 0.1,
    "crop_len": 128,
    "batch_size": 8,
    "max_epochs": 15,
    "patience": 15,
    "lr": 1e-2,
    "monitor": "ap",
    "n_jobs": 1,
}


def _fit(train: list[Recording], valid: list[Recording], settings: dict[str, Any]) -> BeatNetModule:
    pytest.importorskip("torch")
    pytest.importorskip("lightning")
    from cardiospike.models.nn.config import NetConfig
    from cardiospike.models.nn.lit import fit_network

    return fit_network(train, valid, NetConfig.from_dict(settings))


@pytest.fixture(scope="session")
def nn_train() -> list[Recording]:
    return simulate_recordings(12, n_beats=400, seed=300)


@pytest.fixture(scope="session")
def nn_valid() -> list[Recording]:
    return simulate_recordings(4, n_beats=400, seed=400)


@pytest.fixture(scope="session")
def sequence_module(nn_train: list[Recording], nn_valid: list[Recording]) -> BeatNetModule:
    return _fit(nn_train, nn_valid, TINY_SEQUENCE)


@pytest.fixture(scope="session")
def cardionet_module(nn_train: list[Recording], nn_valid: list[Recording]) -> BeatNetModule:
    return _fit(nn_train, nn_valid, TINY_CARDIONET)


@pytest.fixture(scope="session")
def features_module(nn_train: list[Recording], nn_valid: list[Recording]) -> BeatNetModule:
    return _fit(nn_train, nn_valid, TINY_FEATURES)
