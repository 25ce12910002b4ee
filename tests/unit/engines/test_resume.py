"""What ``--resume`` keeps and what a run deletes: an input known by its content, not its size; Parquet files no run
of this input wrote refused, by name; only the partial files a run recorded as its own removed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cardiospike.engines.datasets import DatasetError, Target, unwritten, written_by
from cardiospike.engines.run import score_dataset
from tests.datasets import predict, read_scored


def _tripled_same_size(path: Path) -> None:
    """Rewrite a partition with every RR tripled, to a file of the very same size (uncompressed, a dictionary of as
    many values): a size tells nothing of it."""
    part = pd.read_parquet(path)
    part.to_parquet(path, index=False, compression=None)
    size = path.stat().st_size
    part["x"] = part["x"] * 3
    part.to_parquet(path, index=False, compression=None)
    assert path.stat().st_size == size


# --- 1. an input known by its content ------------------------------------------------------------------------------


def test_resume_rescores_an_input_changed_to_the_same_size(tmp_path: Path, dataset: Path, tiny_model_dir: Path):
    source = dataset / "part.0.parquet"
    pd.read_parquet(source).to_parquet(source, index=False, compression=None)  # as _tripled_same_size writes it
    out = tmp_path / "out"
    assert predict(dataset, out, model=tiny_model_dir).exit_code == 0
    recorded = written_by(str(out / "part.0.parquet"))
    assert recorded is not None
    assert recorded["source_identity"] == "sha256:" + hashlib.sha256(source.read_bytes()).hexdigest()
    before = pd.read_parquet(out / "part.0.parquet")

    _tripled_same_size(source)
    resumed = predict(dataset, out, "--resume", model=tiny_model_dir)
    assert resumed.exit_code == 0, resumed.output
    assert "Scored 1 of 4 partition(s) (3 already complete, kept)" in resumed.output
    after = pd.read_parquet(out / "part.0.parquet")
    assert after["x"].tolist() == (before["x"] * 3).tolist()


def test_an_object_is_known_by_what_the_store_says_of_it(memory_fs: Any, frame: pd.DataFrame, tiny_model_dir: Path):
    fs = memory_fs
    for i, ids in enumerate((frame["id"].unique()[:6], frame["id"].unique()[6:])):
        with fs.open(f"/resume-test/data/part-{i}.parquet", "wb") as handle:
            frame[frame["id"].isin(ids)].to_parquet(handle, index=False, compression=None)
    args = ("memory://resume-test/data", "memory://resume-test/out")
    assert score_dataset(*args, model=str(tiny_model_dir)).scored == 2
    kept = score_dataset(*args, model=str(tiny_model_dir), resume=True)
    assert (kept.scored, kept.skipped) == (0, 2)

    with fs.open("/resume-test/data/part-1.parquet", "rb") as handle:
        part = pd.read_parquet(handle)
    size = fs.size("/resume-test/data/part-1.parquet")
    part["x"] = part["x"] * 3
    with fs.open("/resume-test/data/part-1.parquet", "wb") as handle:
        part.to_parquet(handle, index=False, compression=None)
    assert fs.size("/resume-test/data/part-1.parquet") == size
    resumed = score_dataset(*args, model=str(tiny_model_dir), resume=True)
    assert (resumed.scored, resumed.skipped) == (1, 1)


# --- 2. Parquet files no run of this input wrote ----------------------------------------------------------------------


def test_parquet_files_the_run_does_not_write_are_refused_by_name(
    tmp_path: Path, dataset: Path, frame: pd.DataFrame, tiny_model_dir: Path
):
    out = tmp_path / "out"
    assert predict(dataset, out, model=tiny_model_dir).exit_code == 0
    frame.iloc[:304].to_parquet(out / "extra.parquet", index=False)  # a reader of the folder would count its rows
    (out / "day=1").mkdir()
    frame.iloc[:10].to_parquet(out / "day=1" / "other.pq", index=False)
    (out / "_SUCCESS").write_text("")  # not read by dataset readers: no harm
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}

    for args in (("--resume",), ()):
        refused = predict(dataset, out, *args, model=tiny_model_dir)
        assert refused.exit_code == 2, refused.output
        message = " ".join(refused.output.split())
        assert "holds 2 Parquet file(s) this run does not write: day=1/other.pq, extra.parquet" in message
        assert "a reader of the folder would read them as scores" in message
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before

    (out / "extra.parquet").unlink()
    (out / "day=1" / "other.pq").unlink()
    resumed = predict(dataset, out, "--resume", model=tiny_model_dir)
    assert "Scored 0 of 4 partition(s) (4 already complete, kept)" in resumed.output
    assert len(read_scored(out)) == len(frame)


def test_the_parquet_files_a_run_did_not_write_are_found_after_it(tmp_path: Path):
    # Found after the run too: a Dask run decides to repartition by id (part-00000.parquet ...) only once it has
    # read the ids, so an earlier run's partitions of the other layout are known only then.
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    for name in ("part.0.parquet", "a/part.1.parquet", "a/stale.parquet", ".hidden.parquet", "notes.txt"):
        (out / name).write_bytes(b"")
    assert unwritten(Target(str(out), folder=True), {"part.0.parquet", "a/part.1.parquet"}) == ["a/stale.parquet"]


# --- 3. only the run's own partial files are deleted ---------------------------------------------------------------


def test_a_users_file_named_like_a_partial_file_is_kept(tmp_path: Path, dataset: Path, tiny_model_dir: Path):
    out = tmp_path / "out"
    out.mkdir()
    mine = [out / ".notes.partial-0123abcd", out / ".part.3.parquet.partial-0123abcd-89abcdef"]
    for path in mine:
        path.write_text("mine")
    result = predict(dataset, out, model=tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert all(path.read_text() == "mine" for path in mine)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        f"part.{i}.parquet" for i in range(4)
    ]
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == sorted(p.name for p in mine)


_KILLED = """
import os, sys
import cardiospike.engines.datasets as datasets
from cardiospike.engines.run import score_dataset

real = datasets.write_atomic

def killed(target, write, **kwargs):
    def half(handle):
        write(handle)
        handle.flush()
        os._exit(9)  # as SIGKILL: nothing is cleaned up
    real(target, half, **kwargs)

datasets.write_atomic = killed
score_dataset(sys.argv[1], sys.argv[2], model=sys.argv[3])
"""


def test_a_killed_runs_partial_files_are_removed_by_the_next(tmp_path: Path, dataset: Path, tiny_model_dir: Path):
    out = tmp_path / "out"
    killed = subprocess.run([sys.executable, "-c", _KILLED, str(dataset), str(out), str(tiny_model_dir)], check=False)
    assert killed.returncode == 9
    left = [p for p in out.iterdir() if ".partial-" in p.name]
    assert len(left) == 1
    assert left[0].name.startswith(".part.0.parquet.partial-")
    lookalike = out / ".part.1.parquet.partial-0123abcd-89abcdef"
    lookalike.write_text("mine")

    resumed = predict(dataset, out, "--resume", model=tiny_model_dir)
    assert resumed.exit_code == 0, resumed.output
    assert not left[0].exists()
    assert lookalike.read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == sorted([lookalike.name, *(f"part.{i}.parquet" for i in range(4))])


def test_a_refused_run_leaves_no_folder(tmp_path: Path, frame: pd.DataFrame, tiny_model_dir: Path):
    data = tmp_path / "data"
    data.mkdir()
    frame.iloc[:1000].to_parquet(data / "a.parquet", index=False)
    frame.iloc[1000:].to_parquet(data / "b.parquet", index=False)  # a recording in both: refused here
    with pytest.raises(DatasetError, match="spans partitions"):
        score_dataset(str(data), str(tmp_path / "new" / "out"), model=str(tiny_model_dir))
    assert not (tmp_path / "new").exists()
