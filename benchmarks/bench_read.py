"""Reading speed on one core: a competition CSV of a million beats, and how long a reading holds the GIL.

Usage: python benchmarks/bench_read.py [--beats 1000000] [--repeats 5]

1. ``read_recordings`` of a competition CSV (``id,time,x,y``, recordings of about 5,000 beats, as train.csv lays
   them out) of ``--beats`` beats: median and best time, beats per second (target: >= 1,000,000 beats/s).
2. The same while a second Python thread asks for the GIL every millisecond: the longest it waited, which is how
   long the reading held the GIL at a stretch (what ``/health`` waits while the service parses an upload).
3. An upload of 700,000 one-beat recordings (7.6 MB) read with ``max_recordings=10000`` (the service's default):
   time until it is refused.

The process is pinned to one core (where the system allows it). Results go to stdout and
benchmarks/results/read.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import platform
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cardiospike.data import RecordingFormatError, parse_recordings, read_recordings


def competition_csv(n_beats: int, per_recording: int = 5000, seed: int = 0) -> bytes:
    """A competition CSV: ids, times from 0 by the cumulative RR, RR in whole ms, labels."""
    rng = np.random.default_rng(seed)
    rr = rng.integers(500, 1100, n_beats)
    ids = np.arange(n_beats) // per_recording + 1
    starts = np.flatnonzero(np.diff(ids, prepend=0))
    totals = np.cumsum(rr)
    time = totals - rr - np.repeat(totals[starts] - rr[starts], np.diff(np.append(starts, n_beats)))
    labels = (rng.random(n_beats) < 0.1).astype(int)
    rows = np.column_stack([ids, time, rr, labels])
    lines = "\n".join(",".join(map(str, row)) for row in rows.tolist())
    return ("id,time,x,y\n" + lines + "\n").encode()


def longest_gil_wait(work: Callable[[], object], tick_s: float = 0.001) -> tuple[float, float]:
    """(seconds ``work`` took, longest seconds a thread waking every ``tick_s`` waited beyond its tick)."""
    done = threading.Event()
    worst = 0.0

    def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            time.sleep(tick_s)
            worst = max(worst, time.perf_counter() - start - tick_s)

    thread = threading.Thread(target=ticker)
    thread.start()
    start = time.perf_counter()
    work()
    took = time.perf_counter() - start
    done.set()
    thread.join()
    return took, worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beats", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        pinned = "pinned to one core"
    except (AttributeError, OSError):
        pinned = "not pinned (no sched_setaffinity here)"

    content = competition_csv(args.beats)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "competition.csv"
        path.write_bytes(content)
        read_recordings(path)  # warm-up: imports, file cache
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            recordings = read_recordings(path)
            times.append(time.perf_counter() - start)
        assert sum(len(r) for r in recordings) == args.beats
        took, gil = longest_gil_wait(lambda: read_recordings(path))

    flood = b"id,x\n" + b"".join(b"%d,800\n" % i for i in range(700_000))

    def refuse() -> None:
        try:
            parse_recordings(flood, source="flood.csv", max_recordings=10_000)
        except RecordingFormatError:
            return
        raise AssertionError("700,000 recordings were not refused")

    refused_s, refused_gil = longest_gil_wait(refuse)

    median, best = statistics.median(times), min(times)
    command = shlex.join(["python", "benchmarks/bench_read.py", *sys.argv[1:]])
    lines = [
        "# Reading speed, one core",
        "",
        f"- command: `{command}`",
        f"- input: a competition CSV (`id,time,x,y`) of {args.beats:,} beats in {len(recordings)} recordings, "
        f"{len(content) / 1e6:.1f} MB, read from a file with `read_recordings` (sniffing, parsing, checks, units, "
        "splitting into recordings)",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {pinned}; Python {platform.python_version()}; "
        f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        "",
        "| reading | median s | best s | beats/s (median) | target |",
        "| --- | ---: | ---: | ---: | --- |",
        f"| {args.beats:,}-beat competition CSV | {median:.3f} | {best:.3f} | {args.beats / median:,.0f} | "
        f">= 1,000,000 beats/s: {'met' if args.beats / median >= 1e6 else '**missed**'} |",
        "",
        f"While it is read ({took:.3f} s), a thread that asks for the GIL every millisecond waits at most "
        f"{gil * 1e3:.1f} ms.",
        "",
        f"700,000 one-beat recordings (7.6 MB) with `max_recordings=10000`: refused after {refused_s * 1e3:.0f} ms; "
        f"the GIL held at most {refused_gil * 1e3:.1f} ms at a stretch.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).with_name("results") / "read.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
