from pathlib import Path

import fsspec
import numpy as np
import pytest

from cardiospike.training.learners import NetLearner, TrainingData
from cardiospike.training.storage import is_remote, join, mirrored
from tests.conftest import TINY_CONFIG
from tests.s3 import s3_server


def test_is_remote_and_join():
    assert is_remote("s3://bucket/x")
    assert not is_remote("/tmp/x")
    assert not is_remote("file:///tmp/x")
    assert join("s3://b/logs/", "run", "fit-00") == "s3://b/logs/run/fit-00"


def test_local_folder_is_written_in_place(tmp_path: Path):
    with mirrored(str(tmp_path / "logs")) as local:
        Path(local, "a.txt").write_text("x")
    assert (tmp_path / "logs" / "a.txt").read_text() == "x"


def test_url_gets_every_file_when_the_block_ends():
    url = "memory://cardiospike-test/run"
    with mirrored(url) as local:
        Path(local, "sub").mkdir()
        Path(local, "sub", "events.out").write_bytes(b"abc")
        Path(local, "last.ckpt").write_bytes(b"ckpt")
    fs = fsspec.filesystem("memory")
    assert fs.cat("/cardiospike-test/run/sub/events.out") == b"abc"
    assert fs.cat("/cardiospike-test/run/last.ckpt") == b"ckpt"


TINY_NET = {"kind": "cardionet", "conv_channels": 4, "gru_hidden": 4, "mlp_hidden": 8, "max_epochs": 2,
            "patience": 1, "batch_size": 256, "num_threads": 1}  # fmt: skip


@pytest.mark.integration
def test_network_checkpoints_and_tensorboard_logs_go_to_s3(recordings):
    """A real S3 API (moto's server on loopback) reached over HTTP by s3fs, as CHECKPOINTS_DIR/LOGS_DIR would be."""
    pytest.importorskip("torch")
    pytest.importorskip("s3fs")
    data = TrainingData.build(recordings[:4], TINY_CONFIG.features)
    rows = np.arange(len(data.y))
    train, valid = rows[data.recording_of_row < 3], rows[data.recording_of_row == 3]
    with s3_server():
        learner = NetLearner(TINY_NET, checkpoints="s3://cardiospike/ckpt", logs="s3://cardiospike/logs", run="r1")
        learner.fit(data, train, valid)
        learner.fit(data, rows, None, rounds=1)
        fs = fsspec.filesystem("s3")
        checkpoints = fs.find("cardiospike/ckpt/r1")
        logs = fs.find("cardiospike/logs/r1")
    assert any(p.startswith("cardiospike/ckpt/r1/fit-00/") and p.endswith(".ckpt") for p in checkpoints)
    assert "cardiospike/ckpt/r1/fit-01/last.ckpt" in checkpoints
    assert any("/fit-00/" in p and "events.out.tfevents" in p for p in logs)
    assert any("/fit-01/" in p and "events.out.tfevents" in p for p in logs)
