"""Datasets scored on this machine (the ``local`` engine): partitions, outputs, resuming, and what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cardiospike.data import write_csv_atomic
from cardiospike.engines.datasets import METADATA_KEY, DatasetError, open_dataset, written_by
from cardiospike.engines.run import score_dataset
from tests.datasets import (
    SCORED,
    assert_same_scores,
    predict,
    read_scored,
    scored_as_one_file,
    write_dataset,
)


@pytest.fixture
def expected(tmp_path: Path, frame: pd.DataFrame, tiny_model_dir: Path) -> pd.DataFrame:
    return scored_as_one_file(tmp_path, frame, tiny_model_dir)


def test_a_dataset_is_scored_partition_by_partition_as_predict_scores_it(
    tmp_path: Path, dataset: Path, expected: pd.DataFrame, tiny_model_dir: Path
):
    result = predict(dataset, tmp_path / "out", model=tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert "Scored 4 of 4 partition(s): 12 recording(s), 3600 beats" in result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"part.{i}.parquet" for i in range(4)]
    got = read_scored(tmp_path / "out")
    assert_same_scores(got, expected)
    assert got["site"].tolist() == expected["site"].tolist()
    assert list(got.columns) == [*SCORED, "site"]


def test_partitions_keep_their_paths_and_order(tmp_path: Path, frame: pd.DataFrame, tiny_model_dir: Path):
    data = write_dataset(tmp_path / "data", frame, 12, names="day={i}/part.{i}.parquet")
    (data / "_SUCCESS").write_text("")
    (data / ".hidden.parquet").write_bytes(b"not read")
    assert [p.name for p in open_dataset(str(data)).partitions][:3] == [
        "day=0/part.0.parquet", "day=1/part.1.parquet", "day=2/part.2.parquet"
    ]  # fmt: skip
    result = predict(data, tmp_path / "out", model=tiny_model_dir)
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.parquet"))
    assert written == sorted(f"day={i}/part.{i}.parquet" for i in range(12))
    assert read_scored(tmp_path / "out")["id"].tolist() == frame["id"].tolist()


def test_each_partition_records_the_run_that_wrote_it(tmp_path: Path, dataset: Path, tiny_model_dir: Path):
    assert predict(dataset, tmp_path / "out", model=tiny_model_dir).exit_code == 0
    recorded = written_by(str(tmp_path / "out" / "part.1.parquet"))
    assert recorded is not None
    assert recorded["source"] == "part.1.parquet"
    assert recorded["source_size"] == (dataset / "part.1.parquet").stat().st_size
    assert recorded["rows"] == 900
    assert len(recorded["run"]) == 32
    assert METADATA_KEY.encode() in pq.read_metadata(tmp_path / "out" / "part.1.parquet").metadata
    assert not [p for p in (tmp_path / "out").iterdir() if ".partial-" in p.name]


def test_resume_keeps_complete_partitions_and_scores_the_others(tmp_path: Path, dataset: Path, tiny_model_dir: Path):
    out = tmp_path / "out"
    assert predict(dataset, out, model=tiny_model_dir).exit_code == 0
    first = read_scored(out)
    kept = (out / "part.0.parquet").stat().st_mtime_ns
    (out / "part.1.parquet").unlink()  # lost
    (out / "part.2.parquet").write_bytes((out / "part.2.parquet").read_bytes()[:500])  # cut short by a crash
    # Named like a partial file, by no run this folder recorded: not this package's to remove (test_resume.py).
    (out / ".part.3.parquet.partial-0123abcd").write_bytes(b"named like a partial file")

    refused = predict(dataset, out, model=tiny_model_dir)
    assert refused.exit_code == 2
    assert "already holds 3 file(s): --resume completes it" in refused.output

    resumed = predict(dataset, out, "--resume", model=tiny_model_dir)
    assert resumed.exit_code == 0, resumed.output
    assert "Scored 2 of 4 partition(s) (2 already complete, kept)" in resumed.output
    assert (out / "part.0.parquet").stat().st_mtime_ns == kept
    assert (out / ".part.3.parquet.partial-0123abcd").exists()
    assert_same_scores(read_scored(out), first)

    # Another threshold is another run: nothing it finds was written by it.
    again = predict(dataset, out, "--resume", "--threshold", "0.3", model=tiny_model_dir)
    assert "Scored 4 of 4 partition(s)" in again.output


def test_resume_rescores_a_partition_whose_input_changed(tmp_path: Path, dataset: Path, tiny_model_dir: Path):
    out = tmp_path / "out"
    assert predict(dataset, out, model=tiny_model_dir).exit_code == 0
    part = pd.read_parquet(dataset / "part.0.parquet")
    part.iloc[:-10].to_parquet(dataset / "part.0.parquet", index=False)
    resumed = predict(dataset, out, "--resume", model=tiny_model_dir)
    assert "Scored 1 of 4 partition(s) (3 already complete, kept)" in resumed.output
    assert len(pd.read_parquet(out / "part.0.parquet")) == len(part) - 10


def test_a_recording_across_partitions_is_refused_here(tmp_path: Path, frame: pd.DataFrame, tiny_model_dir: Path):
    data = tmp_path / "data"
    data.mkdir()
    frame.iloc[:1000].to_parquet(data / "a.parquet", index=False)
    frame.iloc[1000:].to_parquet(data / "b.parquet", index=False)  # cuts the fourth recording in two
    result = predict(data, tmp_path / "out", model=tiny_model_dir)
    assert result.exit_code == 2
    assert "recording 'synthetic-8' spans partitions a.parquet and b.parquet" in result.output
    assert "--engine dask repartitions the dataset by recording id" in result.output
    assert not (tmp_path / "out").exists()


def test_a_bad_partition_stops_the_run_and_says_where(tmp_path: Path, dataset: Path, tiny_model_dir: Path):
    part = pd.read_parquet(dataset / "part.2.parquet")
    part.loc[5, "x"] = -1.0
    part.to_parquet(dataset / "part.2.parquet", index=False)
    result = predict(dataset, tmp_path / "out", model=tiny_model_dir)
    assert result.exit_code == 2
    assert f"{dataset / 'part.2.parquet'}, field 'x[5]': RR must not be negative" in result.output
    assert "(2 of 4 partition(s) written: --resume completes the output)" in result.output.replace("\n", " ")


def test_an_empty_partition_gives_an_empty_output(tmp_path: Path, dataset: Path, frame: pd.DataFrame, tiny_model_dir):
    frame.iloc[:0].to_parquet(dataset / "part.9.parquet", index=False)
    assert predict(dataset, tmp_path / "out", model=tiny_model_dir).exit_code == 0
    empty = pd.read_parquet(tmp_path / "out" / "part.9.parquet")
    assert len(empty) == 0
    assert list(empty.columns) == [*SCORED, "site"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("{data}", "is the input"),
        ("{data}/scored", "lies inside the input folder"),
        ("{tmp}", "holds the input"),
        ("{tmp}/scored.csv", "not a CSV file: give a folder"),
        ("-", "cannot be written to standard output"),
    ],
)
def test_outputs_that_would_harm_the_input_are_refused(
    tmp_path: Path, dataset: Path, tiny_model_dir: Path, out: str, message: str
):
    result = predict(dataset, out.format(data=dataset, tmp=tmp_path), model=tiny_model_dir)
    assert result.exit_code == 2
    assert message in result.output


def test_files_are_scored_into_parquet_files_and_parquet_into_csv(
    tmp_path: Path, frame: pd.DataFrame, expected: pd.DataFrame, tiny_model_dir: Path
):
    frame.to_parquet(tmp_path / "all.parquet", index=False)
    result = predict(tmp_path / "all.parquet", tmp_path / "scored.parquet", model=tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert_same_scores(pd.read_parquet(tmp_path / "scored.parquet"), expected)
    # A CSV file into Parquet, and Parquet into CSV (the single-machine path, which now reads Parquet too).
    write_csv_atomic(frame, tmp_path / "input.csv")
    assert predict(tmp_path / "input.csv", tmp_path / "from-csv.pq", model=tiny_model_dir).exit_code == 0
    assert_same_scores(pd.read_parquet(tmp_path / "from-csv.pq"), expected)
    assert predict(tmp_path / "all.parquet", tmp_path / "back.csv", model=tiny_model_dir).exit_code == 0
    assert_same_scores(pd.read_csv(tmp_path / "back.csv"), expected)
    refused = predict(tmp_path / "all.parquet", tmp_path / "x.csv", "--resume", model=tiny_model_dir)
    assert refused.exit_code == 2
    assert "name the output NAME.parquet" in refused.output


def test_urls_are_read_and_written_through_fsspec(
    memory_fs: Any, frame: pd.DataFrame, expected: pd.DataFrame, tiny_model_dir: Path
):
    fs = memory_fs
    for i, ids in enumerate((frame["id"].unique()[:6], frame["id"].unique()[6:])):
        with fs.open(f"/engines-test/data/part-{i}.parquet", "wb") as handle:
            frame[frame["id"].isin(ids)].to_parquet(handle, index=False)
    summary = score_dataset("memory://engines-test/data", "memory://engines-test/out", model=str(tiny_model_dir))
    assert (summary.partitions, summary.scored, summary.recordings) == (2, 2, 12)
    got = pd.concat(
        [pd.read_parquet(fs.open(f"/engines-test/out/part-{i}.parquet", "rb")) for i in range(2)], ignore_index=True
    )
    assert_same_scores(got, expected)
    with pytest.raises(DatasetError, match="already holds 2 file"):
        score_dataset("memory://engines-test/data", "memory://engines-test/out", model=str(tiny_model_dir))
    resumed = score_dataset(
        "memory://engines-test/data", "memory://engines-test/out", model=str(tiny_model_dir), resume=True
    )
    assert (resumed.scored, resumed.skipped) == (0, 2)


def test_the_model_is_loaded_once(tmp_path: Path, dataset: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch):
    import cardiospike.engines.partitions
    import cardiospike.engines.run
    from cardiospike.detector import load_detector

    loads: list[object] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads.append(args)
        return load_detector(*args, **kwargs)

    for module in (cardiospike.engines.run, cardiospike.engines.partitions):
        monkeypatch.setattr(module, "load_detector", counted)
    summary = score_dataset(str(dataset), str(tmp_path / "out"), model=str(tiny_model_dir))
    assert summary.processes == 1
    assert summary.model_loads == 0  # the partitions use the model the run loaded to check it
    assert summary.scored == 4
    assert len(loads) == 1
