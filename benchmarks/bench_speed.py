"""Scoring speed of a model on one core, end to end (features + model; reading excluded).

Usage: python benchmarks/bench_speed.py [--model DIR] [--beats 10000] [--repeats 30]

The recording is made of real train.csv recordings laid end to end up to ``--beats`` (synthetic where the data
is absent). Results go to stdout and to benchmarks/results/speed.md.
"""

from __future__ import annotations

import os

# One core: set before numpy and LightGBM load their thread pools.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from cardiospike.data import read_recordings, simulate_recording
from cardiospike.detector import load_detector
from cardiospike.features import beat_features

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike" / "train.csv"


def long_recording(n_beats: int) -> tuple[np.ndarray, str]:
    if DATA.is_file():
        rr = np.concatenate([r.rr for r in read_recordings(DATA)])
        return np.resize(rr, n_beats), "train.csv recordings laid end to end"
    return simulate_recording(n_beats, seed=0).rr, "synthetic recording"


def timed(fn: object, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--beats", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    detector = load_detector(args.model)
    rr, source = long_recording(args.beats)
    detector.predict_proba(rr)  # warm-up
    total = timed(lambda: detector.predict_proba(rr), args.repeats)
    feats = timed(lambda: beat_features(rr, detector.artifact.features), args.repeats)
    median, best = statistics.median(total), min(total)
    lines = [
        "# Scoring speed, one core",
        "",
        f"- command: `python benchmarks/bench_speed.py --beats {args.beats} --repeats {args.repeats}`",
        f"- model: {detector.model_version} ({detector.artifact.model.best_iteration_} trees)",
        f"- input: {args.beats} beats ({source}); reading excluded, features + model included",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, one thread used",
        "",
        "| measure | median | best |",
        "| --- | ---: | ---: |",
        f"| end to end, ms | {median * 1e3:.1f} | {best * 1e3:.1f} |",
        f"| of which features, ms | {statistics.median(feats) * 1e3:.1f} | {min(feats) * 1e3:.1f} |",
        f"| beats per second | {args.beats / median:,.0f} | {args.beats / best:,.0f} |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).with_name("results") / "speed.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
