"""Search throughput with 1 and 2 workers, and what pruning saves, on the debug search configuration.

Usage: python benchmarks/bench_search.py [--trials 16] [--pruning-trials 30]

Workers are ``cardiospike search run`` processes sharing a SQLite study in a temporary folder, one LightGBM thread
each. Throughput: every trial samples at random (a long TPE start-up) with one seed, so trial k has the same
parameters, and so the same work, in both runs; trials per hour are counted from the first trial's start to the
last one's end (process start-up excluded). Pruning: one worker, TPE, 5 folds, the median pruner against none.
Uses train.csv where present (the first 12 recordings), simulated recordings otherwise. Results go to stdout and
to benchmarks/results/search.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.trial import TrialState

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike" / "train.csv"
RESULTS = Path(__file__).resolve().parent / "results" / "search.md"


@dataclass(frozen=True)
class Run:
    workers: int
    trials: int
    pruned: int
    wall_s: float
    trial_span_s: float
    mean_trial_s: float
    best: float

    @property
    def per_hour(self) -> float:
        return self.trials / self.trial_span_s * 3600


def data_overrides() -> list[str]:
    return [f"data.path={DATA}"] if DATA.is_file() else ["data.synthetic.enabled=true"]


def run_study(folder: Path, name: str, workers: int, overrides: list[str]) -> Run:
    storage = f"sqlite:///{folder}/{name}.db"
    cmd = [sys.executable, "-m", "cardiospike.cli", "search", "run", f"storage={storage}", f"study={name}"]
    start = time.perf_counter()
    procs = [
        subprocess.Popen([*cmd, *overrides], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(workers)
    ]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"worker failed ({proc.returncode}):\n{err}")
    wall = time.perf_counter() - start
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(
        deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)
    )
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    return Run(
        workers=workers,
        trials=len(trials),
        pruned=sum(t.state == TrialState.PRUNED for t in trials),
        wall_s=wall,
        trial_span_s=(max(ends) - min(starts)).total_seconds(),
        mean_trial_s=sum((t.duration.total_seconds() for t in trials if t.duration), 0.0) / len(trials),
        best=max(t.value for t in trials if t.value is not None and t.state == TrialState.COMPLETE),
    )


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min) / {five:.1f} (5 min)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=16, help="trials of each throughput run")
    parser.add_argument("--pruning-trials", type=int, default=30, help="trials of each pruning run")
    args = parser.parse_args()
    quick = ["search_debug=quick", "sampler.seed=7", *data_overrides()]
    throughput = [*quick, f"n_trials={args.trials}", "pruner=none", "sampler.n_startup_trials=100000"]
    pruning = [*quick, f"n_trials={args.pruning_trials}", "cv.folds=5"]
    load_before = load()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one = run_study(folder, "one", 1, throughput)
        two = run_study(folder, "two", 2, throughput)
        unpruned = run_study(folder, "nopruning", 1, [*pruning, "pruner=none"])
        pruned = run_study(folder, "pruning", 1, [*pruning, "pruner=median"])
    load_after = load()
    speedup = two.per_hour / one.per_hour
    saved = 1 - pruned.trial_span_s / unpruned.trial_span_s
    lines = [
        "# Search throughput and pruning",
        "",
        f"Command: `{shlex.join(['python', 'benchmarks/bench_search.py', *sys.argv[1:]])}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, Optuna {optuna.__version__}; load average {load_before} before, "
        f"{load_after} after (other work shares these cores). Storage: SQLite in a temporary folder. "
        f"Data: {'train.csv, first 12 recordings' if DATA.is_file() else 'simulated recordings'}.",
        "",
        f"## Workers (search_debug=quick: 2 folds, at most 40 trees; no pruning; {args.trials} trials, same work)",
        "",
        "| workers | trials | trial span (s) | trials per hour | mean trial (s) | wall incl. start-up (s) |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r.workers} | {r.trials} | {r.trial_span_s:.1f} | {r.per_hour:,.0f} | {r.mean_trial_s:.2f} "
            f"| {r.wall_s:.1f} |"
            for r in (one, two)
        ),
        "",
        f"Second worker: **{speedup:.2f}x** the trials per hour of one. The mean trial takes "
        f"{two.mean_trial_s / one.mean_trial_s:.2f}x as long with two workers as with one: where that ratio is well "
        "above 1, the workers are short of CPU (the cores are shared), not waiting on each other or the storage.",
        "",
        f"## Pruning ({args.pruning_trials} trials, 5 folds, one worker, TPE seed 7)",
        "",
        "| pruner | finished | pruned | share pruned | trial span (s) | best F1 |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {label} | {r.trials} | {r.pruned} | {r.pruned / r.trials:.0%} | {r.trial_span_s:.1f} | {r.best:.4f} |"
            for label, r in (("none", unpruned), ("median", pruned))
        ),
        "",
        f"Pruning saved **{saved:.0%}** of the time.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
