"""What a user of the command line waits for: start-up, many short recordings, a day-long recording, on one core and
on every core of this machine.

Usage: python benchmarks/bench_cli.py [--model DIR] [--repeats 5] [--output benchmarks/results/cli.md]

Each figure is the median of ``--repeats`` runs of a whole command, timed from outside: on one core (``taskset -c
0`` and ``--jobs 1``), and on every core (no pinning, ``--jobs`` left at its default: every core):

- ``python -c "import cardiospike"`` and ``cardiospike --help``;
- ``cardiospike predict`` on a 200-beat file: the start-up of a real use (imports, model load, read, score, write);
- ``cardiospike predict`` on a competition CSV of about 110,000 beats in 400-odd recordings (train.csv, test.csv
  and welltory.csv recordings, renamed and repeated; synthetic where they are absent): beats/s beyond start-up =
  beats / (its time - the 200-beat file's time);
- ``cardiospike predict`` on one recording of 120,000 beats (a day at 83 beats per minute): time and peak memory
  (the maximum resident set size, from ``/usr/bin/time``).

The forest is compiled once before the runs (the cache is warm: what every run after the first one sees). The
scaling to more cores is estimated on paper from the two measured times beyond start-up, ``T(p) = serial +
parallel / p`` (Amdahl's law fitted to 1 and 2 cores). Results go to stdout and ``--output``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cardiospike.data import read_recordings, recordings_to_frame, simulate_recording
from cardiospike.data.output import write_csv
from cardiospike.detector import load_detector
from cardiospike.recording import Recording

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike"
CLI = [sys.executable, "-m", "cardiospike.cli"]
#: The input files: 200 beats (start-up), many recordings, one day-long recording.
NAMES = ("short", "many", "day")


def many_recordings(n_beats: int = 110_000) -> list[Recording]:
    """Real recordings (renamed copies, without labels) up to ``n_beats`` beats; synthetic where the data is absent."""
    sources = [DATA / f"{name}.csv" for name in ("train", "test", "welltory")]
    pool = [r for path in sources if path.is_file() for r in read_recordings(path, use_time=False)]
    if not pool:
        pool = [simulate_recording(250, seed=s) for s in range(100)]
    out: list[Recording] = []
    total = 0
    while total < n_beats:
        for rec in pool:
            out.append(Recording.from_rr(rec.rr, id=f"r{len(out)}"))
            total += len(rec)
            if total >= n_beats:
                break
    return out


def timed(args: list[str], repeats: int, one_core: bool = True) -> tuple[float, float]:
    """Median seconds and the largest peak memory (MB) of ``repeats`` runs of ``args``, on core 0 or on every core."""
    pin = ["taskset", "-c", "0"] if one_core and _has("taskset") else []
    seconds, peaks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *pin, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        seconds.append(time.perf_counter() - start)
        peaks.append(int(done.stderr.decode().strip().splitlines()[-1]) / 1024)  # kilobytes
    return statistics.median(seconds), max(peaks)


#: A fixed amount of pure Python work (about a second): run alone and once per core at once, it tells how much of
#: its cores the machine gave during the run (a virtual machine's cores may be shared with other tenants).
SPIN = "s = 0\nfor i in range(10_000_000):\n    s += i"


def core_share(cores: int, repeats: int = 3) -> float:
    """How many cores' worth of work the machine did with ``cores`` processes at once (median of ``repeats``): ``cores``
    where each runs as fast as one alone."""
    alone, together = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", SPIN], check=True)
        alone.append(time.perf_counter() - start)
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(cores)]
        for proc in procs:
            proc.wait()
        together.append(time.perf_counter() - start)
    return cores * statistics.median(alone) / statistics.median(together)


def _has(command: str) -> bool:
    return subprocess.run(["which", command], capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results") / "cli.md")
    args = parser.parse_args()
    model = ["--model", args.model] if args.model else []
    detector = load_detector(args.model)  # compiles the forest into the cache, if it is not there yet

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        recs = many_recordings()
        n_many = sum(len(r) for r in recs)
        write_csv(recordings_to_frame(recs), folder / "many.csv")
        write_csv(recordings_to_frame([Recording.from_rr(recs[0].rr[:200], id="short")]), folder / "short.csv")
        day = np.resize(np.concatenate([r.rr for r in recs]), 120_000)
        write_csv(recordings_to_frame([Recording.from_rr(day, id="day")]), folder / "day.csv")
        out = str(folder / "out.csv")
        import_s, _ = timed([sys.executable, "-c", "import cardiospike"], args.repeats)
        help_s, _ = timed([*CLI, "--help"], args.repeats)
        share = core_share(os.cpu_count() or 1)
        runs = []
        for one_core, jobs in ((True, ["--jobs", "1"]), (False, [])):
            predict = [*CLI, "predict", "-o", out, *model, *jobs]
            runs.append([timed([*predict, str(folder / f"{name}.csv")], args.repeats, one_core) for name in NAMES])

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    command = shlex.join(["python", "benchmarks/bench_cli.py", *sys.argv[1:]])
    runtime = detector.artifact.model.runtime
    cores = os.cpu_count() or 1
    lines = [
        "# The command line on one core and on every core",
        "",
        f"- command: `{command}` (every figure the median of {args.repeats} runs of the whole command; one core: "
        "`taskset -c 0` and `--jobs 1`; every core: `--jobs` at its default)",
        f"- model: {detector.model_version} ({detector.artifact.model.n_trees} trees, forest runtime `{runtime}`, "
        f"network {'on windows' if detector.network is not None and detector.network.windowing else 'whole'})",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; load average "
        f"(1, 5, 15 min) at the end: {load}; {cores} processes of pure Python work at once ran as {share:.2f} cores "
        f"(a virtual machine's cores may be shared: this bounds what {cores} threads can gain here)",
        "",
        f"| what | 1 core | {cores} cores | target |",
        "| --- | ---: | ---: | --- |",
        f"| `import cardiospike` | {import_s:.2f} s | | <= 0.15 s: {_verdict(import_s <= 0.15)} |",
        f"| `cardiospike --help` | {help_s:.2f} s | | <= 0.3 s: {_verdict(help_s <= 0.3)} |",
    ]
    (short1, short_mb1), (many1, many_mb1), (day1, day_mb1) = runs[0]
    (short2, short_mb2), (many2, many_mb2), (day2, day_mb2) = runs[1]
    rate1, rate2 = n_many / max(many1 - short1, 1e-9), n_many / max(many2 - short2, 1e-9)
    day_beyond1, day_beyond2 = day1 - short1, day2 - short2
    lines += [
        f"| `predict`, 200 beats (start-up) | {short1:.2f} s, {short_mb1:.0f} MB | {short2:.2f} s, {short_mb2:.0f} MB "
        f"| <= 0.6 s on 1 core: {_verdict(short1 <= 0.6)} |",
        f"| `predict`, {n_many:,} beats in {len(recs)} recordings | {many1:.2f} s, {many_mb1:.0f} MB | {many2:.2f} s, "
        f"{many_mb2:.0f} MB | |",
        f"| beats/s beyond start-up | {rate1:,.0f} | {rate2:,.0f} | >= 120,000 on 1 core: "
        f"{_verdict(rate1 >= 120_000)}; >= 200,000 on 2: {_verdict(rate2 >= 200_000)} |",
        f"| `predict`, one recording of 120,000 beats | {day1:.2f} s, {day_mb1:.0f} MB peak | {day2:.2f} s, "
        f"{day_mb2:.0f} MB peak | <= 300 MB: {_verdict(max(day_mb1, day_mb2) <= 300)} |",
        f"| the same, beyond start-up | {day_beyond1:.2f} s | {day_beyond2:.2f} s | <= 0.6 s on 2 cores: "
        f"{_verdict(day_beyond2 <= 0.6)} |",
    ]
    if cores > 1:
        lines += [
            "",
            f"Scaling on paper (Amdahl's law fitted to the times beyond start-up on 1 and {cores} cores):",
            "",
        ]
        lines += [
            "| cores | many recordings, beats/s | 120,000-beat recording, s beyond start-up |",
            "| ---: | ---: | ---: |",
        ]
        many_fit = _amdahl(many1 - short1, many2 - short2, cores)
        day_fit = _amdahl(day_beyond1, day_beyond2, cores)
        for p in (1, 2, 4, 8):
            lines.append(f"| {p} | {n_many / many_fit(p):,.0f} | {day_fit(p):.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)


def _amdahl(t1: float, tp: float, p: int) -> Callable[[int], float]:
    """``T(n) = t1 * ((1 - f) + f / n)``, the parallel share ``f`` fitted to the times ``t1`` on 1 core and ``tp``
    on ``p`` (kept within 0 and 1, where noise puts it outside)."""
    share = min(max((t1 - tp) / (t1 * (1 - 1 / p)), 0.0), 1.0) if t1 > 0 else 0.0
    return lambda n: t1 * ((1 - share) + share / n)


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


if __name__ == "__main__":
    main()
