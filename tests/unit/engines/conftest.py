"""What the engine tests share: the synthetic dataset frame, and a fresh dataset folder of it in four partitions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.datasets import dataset_frame, write_dataset


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return dataset_frame()


@pytest.fixture
def dataset(tmp_path: Path, frame: pd.DataFrame) -> Path:
    return write_dataset(tmp_path / "data", frame, 4)
