"""Parquet datasets for the engine tests: synthetic recordings split into partitions, and scored outputs read back."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.data import recordings_to_frame, simulate_recordings, write_csv_atomic
from cardiospike.engines.datasets import natural_key
from cardiospike.recording import Recording

#: The columns every scored output of these (labelled) datasets holds: the reference labels as ``label``.
SCORED = ["id", "time", "x", "y", "label", "anomaly_proba", "error"]


def dataset_frame(n_recordings: int = 12, n_beats: int = 300, seed: int = 5) -> pd.DataFrame:
    """Recordings in the competition columns, with an extra column of text carried to the output."""
    recordings: Sequence[Recording] = simulate_recordings(n_recordings, n_beats=n_beats, seed=seed)
    frame = recordings_to_frame(recordings)
    frame["site"] = [f"site-{i % 3}" for i in range(len(frame))]
    return frame


def write_dataset(folder: Path, frame: pd.DataFrame, partitions: int, *, names: str = "part.{i}.parquet") -> Path:
    """``frame`` cut into ``partitions`` Parquet files at whole recordings, in order, named by ``names`` (``{i}``)."""
    ids = list(dict.fromkeys(frame["id"]))
    for i in range(partitions):
        part = frame[frame["id"].isin(ids[len(ids) * i // partitions : len(ids) * (i + 1) // partitions])]
        path = folder / names.format(i=i)
        path.parent.mkdir(parents=True, exist_ok=True)
        part.to_parquet(path, index=False)
    return folder


def predict(source: Path | str, out: Path | str, *args: str, model: Path | str) -> Any:
    """``cardiospike predict SOURCE -o OUT --model MODEL ARGS...``, run in this process."""
    return CliRunner().invoke(app, ["predict", str(source), "-o", str(out), "--model", str(model), *args])


def scored_as_one_file(folder: Path, frame: pd.DataFrame, model: Path) -> pd.DataFrame:
    """What the single-machine ``predict`` writes for the recordings of ``frame`` given as one CSV file."""
    write_csv_atomic(frame, folder / "all.csv")
    result = predict(folder / "all.csv", folder / "all-scored.csv", model=model)
    assert result.exit_code == 0, result.output
    return pd.read_csv(folder / "all-scored.csv")


def read_scored(folder: Path) -> pd.DataFrame:
    """Every output partition below ``folder``, in the natural order of their paths, as one frame."""
    files = sorted(
        (p for p in folder.rglob("*.parquet") if not p.name.startswith(".")),
        key=lambda p: natural_key(p.relative_to(folder).as_posix()),
    )
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)


def assert_same_scores(got: pd.DataFrame, expected: pd.DataFrame, *, columns: Sequence[str] = SCORED) -> None:
    """The same rows, beat for beat: every value of ``columns`` equal (ids compared as text)."""
    assert len(got) == len(expected)
    for column in columns:
        a, b = got[column].reset_index(drop=True), expected[column].reset_index(drop=True)
        if column == "id":
            a, b = a.astype(str), b.astype(str)
        pd.testing.assert_series_equal(a, b, check_dtype=False, check_names=False, obj=column)
