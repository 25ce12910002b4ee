"""Datasets scored on a real Dask cluster: a ``LocalCluster`` of two worker processes on loopback.

The outputs must equal, beat for beat, what ``cardiospike predict`` writes on this machine; a worker process killed
mid-run must not cost a partition; a rerun with ``--resume`` scores only what is missing; recordings that span
partitions are repartitioned by id; and it all works with the data, the model and the output on S3 (moto's server).
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cardiospike.engines.dask import NO_TRIM, connect, cores
from cardiospike.engines.partitions import score_partition
from cardiospike.engines.run import score_dataset
from tests.datasets import (
    SCORED,
    assert_same_scores,
    dataset_frame,
    predict,
    read_scored,
    scored_as_one_file,
    write_dataset,
)
from tests.s3 import s3_server

pytestmark = pytest.mark.integration
distributed = pytest.importorskip("distributed", reason="the 'dask' extra is not installed")
dask = pytest.importorskip("dask")
SchedulerPlugin: Any = distributed.SchedulerPlugin
CLI = [sys.executable, "-m", "cardiospike.cli"]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A client of a LocalCluster of two worker processes (one thread each) on loopback, shared by the tests; its
    workers go without glibc's trimming threshold, as those of ``--engine dask`` (its nannies would set it in this
    process's environment, for every cluster started after)."""
    with dask.config.set({NO_TRIM: None}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0",
            silence_logs=logging.ERROR,
        )  # fmt: skip
    with cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return dataset_frame(n_recordings=24, n_beats=400, seed=11)


@pytest.fixture
def expected(tmp_path: Path, frame: pd.DataFrame, tiny_model_dir: Path) -> pd.DataFrame:
    return scored_as_one_file(tmp_path, frame, tiny_model_dir)


def test_a_local_cluster_has_a_worker_process_per_core_without_the_trimming_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # With MALLOC_TRIM_THRESHOLD_ set (Dask's default for its workers), every large array is a fresh mapping of
    # zeroed pages, and scoring is about 40% slower (benchmarks/results/dask.md).
    # The cache folder comes from elsewhere than the variable, which the workers would inherit: they are told it.
    monkeypatch.delenv("CARDIOSPIKE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with connect(None) as started:
        assert list(started.run(os.getenv, "MALLOC_TRIM_THRESHOLD_").values()) == [None] * cores()
        assert set(started.run(os.getenv, "CARDIOSPIKE_CACHE_DIR").values()) == {str(tmp_path / "cardiospike")}
        assert {w["nthreads"] for w in started.scheduler_info()["workers"].values()} == {1}


def test_a_cluster_scores_as_this_machine_does(
    client: Any, tmp_path: Path, frame: pd.DataFrame, expected: pd.DataFrame, tiny_model_dir: Path
):
    data = write_dataset(tmp_path / "data", frame, 8)
    address = client.scheduler.address
    on_cluster = predict(data, tmp_path / "dask", "--scheduler", address, model=tiny_model_dir)
    assert on_cluster.exit_code == 0, on_cluster.output
    assert f"Dask: 2 worker(s) at {address}" in on_cluster.output
    assert "Scored 8 of 8 partition(s): 24 recording(s), 9600 beats" in on_cluster.output
    here = predict(data, tmp_path / "local", "--engine", "local", model=tiny_model_dir)
    assert here.exit_code == 0, here.output
    got = read_scored(tmp_path / "dask")
    assert_same_scores(got, read_scored(tmp_path / "local"), columns=[*SCORED, "site"])
    assert_same_scores(got, expected)
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == sorted(p.name for p in data.iterdir())


class KillABusyWorker(SchedulerPlugin):
    """A scheduler plugin: the moment the first partition is scored (its task done, so its file written), it kills
    (SIGKILL) a worker process that holds a partition not yet scored, as the scheduler's state says at that moment.

    It runs in the scheduler's event loop (a ``LocalCluster`` keeps its scheduler in this process), so there is no
    polling and no race: whatever the speed of the machine, the worker is killed with a partition in hand.
    """

    name = "test-kill-a-busy-worker"

    def __init__(self, scheduler: Any, pids: dict[str, int]) -> None:
        self.scheduler, self.pids = scheduler, pids
        self.killed: int | None = None

    def transition(self, key: Any, start: str, finish: str, *args: Any, **kwargs: Any) -> None:
        if self.killed is not None or (start, finish) != ("processing", "memory"):
            return
        if dask.utils.key_split(key) != score_partition.__name__:  # not a survey of the partitions before
            return
        for worker in self.scheduler.workers.values():
            if worker.processing and worker.address in self.pids:
                self.killed = self.pids[worker.address]
                os.kill(self.killed, signal.SIGKILL)
                return


def test_a_worker_killed_mid_run_costs_no_partition(client: Any, tmp_path: Path, tiny_model_dir: Path):
    frame = dataset_frame(n_recordings=48, n_beats=1500, seed=12)
    expected = scored_as_one_file(tmp_path, frame, tiny_model_dir)
    data = write_dataset(tmp_path / "data", frame, 48)
    out = tmp_path / "out"
    pids: dict[str, int] = client.run(os.getpid)
    scheduler = client.cluster.scheduler
    killer = KillABusyWorker(scheduler, pids)
    scheduler.add_plugin(killer, name=killer.name)
    try:
        # The command in a process of its own, as a user runs it, on the cluster whose scheduler kills a worker.
        command = [*CLI, "predict", str(data), "-o", str(out), "--model", str(tiny_model_dir)]
        run = subprocess.Popen([*command, "--scheduler", client.scheduler.address], stdout=subprocess.PIPE, text=True)
        output, _ = run.communicate(timeout=180)
    finally:
        scheduler.remove_plugin(name=killer.name)
    assert killer.killed is not None, f"no worker held a partition once the first was scored:\n{output}"
    assert run.returncode == 0, output
    assert "Scored 48 of 48 partition(s)" in " ".join(output.split())
    assert_same_scores(read_scored(out), expected)
    assert not [p for p in out.iterdir() if ".partial-" in p.name]
    client.wait_for_workers(2, timeout=60)  # the nanny starts a new worker process in its place
    assert killer.killed not in client.run(os.getpid).values()


def test_resume_scores_only_the_missing_partitions(
    client: Any, tmp_path: Path, frame: pd.DataFrame, expected: pd.DataFrame, tiny_model_dir: Path
):
    data = write_dataset(tmp_path / "data", frame, 8)
    out = tmp_path / "out"
    args = ("--scheduler", client.scheduler.address)
    assert predict(data, out, *args, model=tiny_model_dir).exit_code == 0
    for i in (1, 4, 6):
        (out / f"part.{i}.parquet").unlink()
    kept = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    resumed = predict(data, out, *args, "--resume", model=tiny_model_dir)
    assert resumed.exit_code == 0, resumed.output
    assert "Scored 3 of 8 partition(s) (5 already complete, kept)" in resumed.output
    assert all(out.joinpath(name).stat().st_mtime_ns == t for name, t in kept.items())
    assert_same_scores(read_scored(out), expected)


def test_recordings_across_partitions_are_repartitioned_by_id(
    client: Any, tmp_path: Path, frame: pd.DataFrame, expected: pd.DataFrame, tiny_model_dir: Path
):
    data = tmp_path / "data"
    data.mkdir()
    cuts = [0, 1000, 2500, 5000, 7300, len(frame)]  # every cut but the last splits a recording
    for i, (a, b) in enumerate(itertools.pairwise(cuts)):
        frame.iloc[a:b].to_parquet(data / f"day-{i}.parquet", index=False)
    result = predict(data, tmp_path / "out", "--scheduler", client.scheduler.address, model=tiny_model_dir)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "recording 'synthetic-13' spans partitions day-0.parquet and day-1.parquet" in output
    assert "repartitioning the dataset by 'id' into 5 partitions first" in output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"part-{i:05d}.parquet" for i in range(5)]
    got = read_scored(tmp_path / "out")
    # Each recording whole in one partition, its beats in input order: the same rows as predict's, recording by
    # recording.
    assert got.groupby("id", sort=False).ngroups == 24
    by_recording = got.sort_values(["id", "time"], kind="stable").reset_index(drop=True)
    assert_same_scores(by_recording, expected.sort_values(["id", "time"], kind="stable").reset_index(drop=True))
    for _, rows in got.groupby("id"):
        assert rows["time"].is_monotonic_increasing
    again = predict(data, tmp_path / "out", "--scheduler", client.scheduler.address, "--resume", model=tiny_model_dir)
    assert "Scored 0 of 5 partition(s) (5 already complete, kept)" in again.output


def test_a_dataset_to_repartition_whose_partition_has_no_id_column_is_refused(
    client: Any, tmp_path: Path, frame: pd.DataFrame, tiny_model_dir: Path
):
    data = tmp_path / "data"
    data.mkdir()
    frame.iloc[:1000].to_parquet(data / "day-0.parquet", index=False)
    frame.iloc[1000:2500].to_parquet(data / "day-1.parquet", index=False)  # splits a recording
    frame.iloc[2500:3000].drop(columns="id").to_parquet(data / "day-2.parquet", index=False)
    result = predict(data, tmp_path / "out", "--scheduler", client.scheduler.address, model=tiny_model_dir)
    assert result.exit_code == 2, result.output
    assert "day-2.parquet has no 'id' column" in " ".join(result.output.split())


def test_an_s3_dataset_on_a_local_cluster_started_by_the_command(
    tmp_path: Path, frame: pd.DataFrame, expected: pd.DataFrame, tiny_model_dir: Path
):
    s3fs = pytest.importorskip("s3fs")
    data = write_dataset(tmp_path / "data", frame, 6)
    with s3_server():  # before the cluster starts: its workers inherit the endpoint and credentials
        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.put(str(data) + "/", "cardiospike/data/", recursive=True)
        for path in sorted(tiny_model_dir.iterdir()):
            fs.put_file(str(path), f"cardiospike/models/tiny/{path.name}")
        model = "s3://cardiospike/models/tiny"

        result = predict("s3://cardiospike/data", "s3://cardiospike/scored", "--engine", "dask", model=model)
        assert result.exit_code == 0, result.output
        assert "Scored 6 of 6 partition(s): 24 recording(s)" in result.output
        names = sorted(p.rsplit("/", 1)[-1] for p in fs.find("cardiospike/scored"))
        assert names == [f"part.{i}.parquet" for i in range(6)]
        got = pd.concat(
            [pd.read_parquet(fs.open(f"cardiospike/scored/part.{i}.parquet", "rb")) for i in range(6)],
            ignore_index=True,
        )
        assert_same_scores(got, expected)

        fs.rm("cardiospike/scored/part.2.parquet")
        summary = score_dataset(
            "s3://cardiospike/data", "s3://cardiospike/scored", model=model, engine="dask", workers=2, resume=True
        )
        assert (summary.scored, summary.skipped) == (1, 5)
        assert fs.exists("cardiospike/scored/part.2.parquet")
        fs.rm("cardiospike/scored", recursive=True)
        fresh = score_dataset("s3://cardiospike/data", "s3://cardiospike/scored", model=model, engine="dask", workers=2)
    assert fresh.scored == 6
    # Two worker processes, each loading the model once for its three partitions on average.
    assert fresh.processes == 2
    assert fresh.model_loads == 2
