"""Scoring a large Parquet dataset: the single-machine command, and Dask clusters of 1 and 2 worker processes.

Usage: python benchmarks/bench_dask.py [--beats 10000000] [--partitions 64] [--folder DIR] [--model DIR]
                                       [--workers 1,2] [--keep] [--no-trim-run]

A synthetic dataset (seeded recordings of 2,000 to 8,000 beats, the competition columns ``id,time,x``) is written
once in ``--partitions`` Parquet files, then scored by ``cardiospike predict`` as a user runs it, in a process of its
own, each run timed from start to exit:

* ``--engine local``: this machine, one process;
* ``--scheduler ADDRESS`` on a ``LocalCluster`` of N worker processes (one thread each) started beforehand, so that
  the time is the scoring's, model loading in each worker included; the peak memory of each worker process is read
  from the operating system after the run;
* ``--engine dask`` alone, which starts its own local cluster (one worker per core): the whole command.

Every output is checked to equal the first, beat for beat. The machine's load average is recorded before and after
each run. Results go to stdout and to benchmarks/results/dask.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import resource
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cardiospike.data import simulate_recording
from cardiospike.detector import load_detector
from cardiospike.engines.dask import connect
from cardiospike.version import package_version

RESULTS = Path(__file__).resolve().parent / "results" / "dask.md"
CLI = [sys.executable, "-m", "cardiospike.cli"]


def seeded_lengths(beats: int) -> list[int]:
    """The lengths of seeded recordings of 2,000 to 8,000 beats (the last one maybe fewer), ``beats`` in all;
    recording ``i`` is simulated with seed ``i``."""
    rng = np.random.default_rng(0)
    lengths: list[int] = []
    while sum(lengths) < beats:
        lengths.append(int(rng.integers(2000, 8001)))
    lengths[-1] -= sum(lengths) - beats  # the last one shorter, to make up ``beats``
    return lengths


def partition_bounds(n_recordings: int, partitions: int) -> np.ndarray:
    """Where ``partitions`` partitions of about as many recordings each start (and the last ends)."""
    return np.linspace(0, n_recordings, partitions + 1).round().astype(int)


def write_dataset(folder: Path, beats: int, partitions: int) -> int:
    """The recordings of :func:`seeded_lengths`, cut into ``partitions`` files at whole recordings; returns the
    beats written."""
    lengths = seeded_lengths(beats)
    bounds = partition_bounds(len(lengths), partitions)
    folder.mkdir(parents=True, exist_ok=True)
    for p in range(partitions):
        recordings = [simulate_recording(lengths[i], seed=i, id=f"r{i:06d}") for i in range(bounds[p], bounds[p + 1])]
        table = pa.table(
            {
                "id": np.repeat([r.id for r in recordings], [len(r) for r in recordings]),
                "time": np.concatenate([r.time for r in recordings]),
                "x": np.concatenate([r.rr for r in recordings]),
            }
        )
        pq.write_table(table, folder / f"part-{p:03d}.parquet")
    return sum(lengths)


def loads() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def run_command(args: list[str]) -> tuple[float, int]:
    """Run a command to its end: seconds from start to exit, and its peak memory (KiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    output = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{output}")
    return seconds, int(usage.ru_maxrss)


def mib(peaks: list[int]) -> str:
    return ", ".join(f"{p / 1024:.0f}" for p in peaks)


def peak_rss_kib() -> int:
    """This process's peak resident memory (KiB, as Linux counts it)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


@contextmanager
def local_cluster(workers: int, trim: bool) -> Iterator[Any]:
    """A client of a local cluster of ``workers`` processes: as ``--engine dask`` starts one, or, with ``trim``, as
    Dask makes it by default (its workers with ``MALLOC_TRIM_THRESHOLD_=65536``)."""
    if not trim:
        with connect(None, workers) as client:
            yield client
        return
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, silence_logs=logging.ERROR, dashboard_address=":0") as c,
        Client(c) as client,
    ):
        yield client


def on_cluster(workers: int, run: Callable[[str], tuple[float, int]], trim: bool) -> tuple[float, list[int]]:
    """Run ``run(scheduler address)`` against a fresh local cluster (see :func:`local_cluster`); the seconds it took
    and each worker's peak memory (KiB)."""
    with local_cluster(workers, trim) as client:
        trimming = set(client.run(os.getenv, "MALLOC_TRIM_THRESHOLD_").values())
        assert trimming == ({"65536"} if trim else {None}), trimming
        seconds, _ = run(str(client.scheduler_info()["address"]))
        peaks = sorted(client.run(peak_rss_kib).values())
    return seconds, peaks


def same_output(a: Path, b: Path) -> bool:
    """Whether two output folders hold the same partitions with the same rows."""
    names = sorted(p.name for p in a.glob("*.parquet"))
    if names != sorted(p.name for p in b.glob("*.parquet")):
        return False
    return all(pq.read_table(a / n).equals(pq.read_table(b / n)) for n in names)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beats", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/cardiospike-bench-dask"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--keep", action="store_true", help="keep the dataset and outputs")
    parser.add_argument("--no-trim-run", action="store_true", help="skip the run with Dask's default trimming")
    args = parser.parse_args()

    data = args.folder / "data"
    existing = sorted(data.glob("*.parquet"))
    same = len(existing) == args.partitions and sum(pq.read_metadata(p).num_rows for p in existing) == args.beats
    if not same:  # a dataset of other flags (or none): written afresh
        shutil.rmtree(args.folder, ignore_errors=True)
        start = time.perf_counter()
        beats = write_dataset(data, args.beats, args.partitions)
        took = time.perf_counter() - start
        print(f"dataset: {beats:,} beats in {args.partitions} partitions, written in {took:.0f} s")
    beats = sum(pq.read_metadata(p).num_rows for p in data.glob("*.parquet"))
    n_recordings = sum(len(pq.read_table(p, columns=["id"]).column(0).unique()) for p in data.glob("*.parquet"))
    size = sum(p.stat().st_size for p in data.glob("*.parquet"))
    detector = load_detector(args.model)  # compiles the forest into the cache once: no run pays for it
    model = [] if args.model is None else ["--model", args.model]

    rows: list[dict[str, Any]] = []

    def measure(name: str, out: str, extra: list[str], workers: int | None = None, trim: bool = False) -> None:
        target = args.folder / out
        shutil.rmtree(target, ignore_errors=True)
        before = loads()
        command = [*CLI, "predict", str(data), "-o", str(target), *model, *extra]
        if workers is None:
            seconds, peak = run_command(command)
            peaks = [peak]
        else:
            seconds, peaks = on_cluster(workers, lambda a: run_command([*command, "--scheduler", a]), trim)
        row = {
            "name": name,
            "seconds": seconds,
            "rate": beats / seconds,
            "peaks": peaks,
            "load_before": before,
            "load_after": loads(),
            "out": target,
        }
        rows.append(row)
        print(
            f"{name}: {seconds:.1f} s, {beats / seconds:,.0f} beats/s, peak memory {mib(peaks)} MiB; "
            f"load {before} -> {row['load_after']}",
            flush=True,
        )

    measure("single machine: `predict DATA -o OUT` (--engine local)", "out-local", [])
    for n in (int(w) for w in args.workers.split(",")):
        measure(f"Dask, {n} worker process(es): `--scheduler tcp://...`", f"out-dask-{n}", [], workers=n)
    measure("Dask, local cluster started by the command: `--engine dask`", "out-dask-auto", ["--engine", "dask"])
    if not args.no_trim_run:
        name = "Dask, 1 worker process, with Dask's default `MALLOC_TRIM_THRESHOLD_=65536`"
        measure(name, "out-dask-trim", [], workers=1, trim=True)
    identical = all(same_output(rows[0]["out"], r["out"]) for r in rows[1:])

    one = next((r for r in rows if "1 worker process(es)" in r["name"]), None)
    two = next((r for r in rows if "2 worker process(es)" in r["name"]), None)
    speedup = f"{two['rate'] / one['rate']:.2f}x" if one and two else "n/a"
    lines = [
        "# Scoring a Parquet dataset: one machine, and Dask",
        "",
        f"- command: `{shlex.join(['python', 'benchmarks/bench_dask.py', *sys.argv[1:]])}`",
        f"- data: {beats:,} beats, {n_recordings:,} synthetic recordings of 2,000-8,000 beats, in {args.partitions} "
        f"Parquet partitions ({size / 2**20:.0f} MiB); columns `id,time,x`",
        f"- model: {detector.model_version} (the shipped stack: LightGBM compiled by lleaves + the feature network in "
        "ONNX Runtime); forest compiled once beforehand into the shared cache",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, cardiospike "
        f"{package_version()}, Python {platform.python_version()}",
        "- each run: `cardiospike predict` in a process of its own, timed from start to exit; Dask runs go to a "
        f"local cluster of {' or '.join(args.workers.split(','))} worker processes (one thread each, as `--engine "
        "dask` starts it: without glibc's "
        "trimming threshold) started beforehand (model loading in each worker included), except the one that starts "
        "its own",
        "- peak memory: of each Dask worker process (its peak resident set, from the OS), else of the command (for "
        "`--engine dask` alone: the largest of the command's process and the worker processes it started, as the "
        "OS reports a process with its children)",
        "",
        "| run | seconds | beats/s | peak memory per process (MiB) | load average before -> after (1, 5, 15 min) |",
        "| --- | ---: | ---: | ---: | --- |",
        *(
            f"| {r['name']} | {r['seconds']:.1f} | {r['rate']:,.0f} | {mib(r['peaks'])} | {r['load_before']} -> "
            f"{r['load_after']} |"
            for r in rows
        ),
        "",
        f"- 2 workers vs 1: {speedup} the beats per second",
        f"- outputs identical to the single-machine run, partition by partition: {'yes' if identical else 'NO'}",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    if not args.keep:
        for r in rows:
            shutil.rmtree(r["out"], ignore_errors=True)


if __name__ == "__main__":
    main()
