"""What the engine tests share: the synthetic dataset frame, a fresh dataset folder of it in four partitions, and
fsspec's in-memory file system."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pytest

from tests.datasets import dataset_frame, write_dataset


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return dataset_frame()


@pytest.fixture
def dataset(tmp_path: Path, frame: pd.DataFrame) -> Path:
    return write_dataset(tmp_path / "data", frame, 4)


@pytest.fixture
def memory_fs() -> Iterator[Any]:
    """fsspec's in-memory file system, emptied after the test of the files it wrote (it lives as long as the
    process)."""
    fs = fsspec.filesystem("memory")
    before = set(fs.ls("/", detail=False))
    yield fs
    for path in set(fs.ls("/", detail=False)) - before:
        fs.rm(path, recursive=True)
