from pathlib import Path

import fsspec
import numpy as np
import pytest

from cardiospike.remote import RemoteError, is_url, join, mirrored, upload
from cardiospike.training.learners import NetLearner, TrainingData
from tests.conftest import debug_config, network_config
from tests.s3 import s3_server


def test_is_url_and_join():
    assert is_url("s3://bucket/x")
    assert is_url("memory://bucket/x")
    assert not is_url("/tmp/x")
    assert not is_url("relative/x")
    assert not is_url(Path("s3://bucket/x"))  # a Path is a local path, whatever it holds
    assert join("s3://b/logs/", "run", "fit-00") == "s3://b/logs/run/fit-00"
    assert join("/tmp/logs", "run") == "/tmp/logs/run"


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


def test_upload_puts_the_named_file_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in ("manifest.json", "a.txt", "z.onnx"):
        (tmp_path / name).write_text(name)
    fs = fsspec.filesystem("memory")
    order: list[str] = []
    put = type(fs).put_file

    def record(self, local: str, remote: str, **kwargs) -> None:
        order.append(remote.rsplit("/", 1)[1])
        put(self, local, remote, **kwargs)

    monkeypatch.setattr(type(fs), "put_file", record)
    upload(tmp_path, "memory://cardiospike-upload/m", last="manifest.json")
    assert order == ["a.txt", "z.onnx", "manifest.json"]
    assert fs.cat("/cardiospike-upload/m/manifest.json") == b"manifest.json"


def test_unknown_protocol_is_a_remote_error():
    with pytest.raises(RemoteError, match="nope://x: unsupported URL"):
        upload(Path("."), "nope://x")


@pytest.mark.integration
def test_network_checkpoints_and_tensorboard_logs_go_to_s3(recordings):
    """A real S3 API (moto's server on loopback) reached over HTTP by s3fs, as CHECKPOINTS_DIR/LOGS_DIR would be."""
    pytest.importorskip("torch")
    pytest.importorskip("s3fs")
    data = TrainingData.build(recordings[:4], debug_config().features)
    rows = np.arange(len(data.y))
    train, valid = rows[data.recording_of_row < 3], rows[data.recording_of_row == 3]
    with s3_server():
        learner = NetLearner(
            network_config("cardionet"), checkpoints="s3://cardiospike/ckpt", logs="s3://cardiospike/logs", run="r1"
        )
        learner.fit(data, train, valid)
        learner.fit(data, rows, None, rounds=1)
        fs = fsspec.filesystem("s3")
        checkpoints = fs.find("cardiospike/ckpt/r1")
        logs = fs.find("cardiospike/logs/r1")
    assert any(p.startswith("cardiospike/ckpt/r1/fit-00/") and p.endswith(".ckpt") for p in checkpoints)
    assert "cardiospike/ckpt/r1/fit-01/last.ckpt" in checkpoints
    assert any("/fit-00/" in p and "events.out.tfevents" in p for p in logs)
    assert any("/fit-01/" in p and "events.out.tfevents" in p for p in logs)
