"""Fixtures of the deployment tests: a moto S3 server on loopback holding the session's tiny model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3 import s3_server

#: Where the tiny model is uploaded in the test bucket.
MODEL_URL = "s3://cardiospike/models/tiny"


@pytest.fixture
def s3_endpoint() -> Iterator[str]:
    """A fresh S3 endpoint (bucket ``cardiospike``); AWS_ENDPOINT_URL and dummy credentials set meanwhile."""
    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_model(s3_endpoint: str, tiny_model_dir: Path) -> str:
    """The tiny model's folder uploaded to :data:`MODEL_URL`, with the real client; returns the URL."""
    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    for path in sorted(tiny_model_dir.iterdir()):
        fs.put_file(str(path), f"{MODEL_URL.removeprefix('s3://')}/{path.name}")
    return MODEL_URL
