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
from cardiospike.recording import Recording

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

    fast = load_detector(args.model, runtime="compiled")
    plain = load_detector(args.model, runtime="lightgbm")
    rr, source = long_recording(args.beats)
    recording = Recording.from_rr(rr, id="bench")
    rows = []
    for name, detector in (("compiled forest (lleaves; served)", fast), ("LightGBM's predictor", plain)):
        detector.score(recording)  # warm-up
        times = timed(lambda d=detector: d.score(recording), args.repeats)
        rows.append((name, statistics.median(times), min(times)))
    feats = timed(lambda: beat_features(rr, fast.artifact.features), args.repeats)
    a, b = fast.score(recording), plain.score(recording)
    lines = [
        "# Scoring speed, one core",
        "",
        f"- command: `python benchmarks/bench_speed.py --beats {args.beats} --repeats {args.repeats}`",
        f"- model: {fast.model_version} ({fast.artifact.model.n_trees} trees)",
        f"- input: one recording of {args.beats} beats ({source}); reading excluded; features, model, "
        "post-processing and error flags included (`Detector.score`)",
        f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, one thread used",
        "",
        "| scoring | median ms | best ms | beats/s (median) |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {name} | {m * 1e3:.1f} | {b_ * 1e3:.1f} | {args.beats / m:,.0f} |" for name, m, b_ in rows),
        f"| of which features | {statistics.median(feats) * 1e3:.1f} | {min(feats) * 1e3:.1f} | |",
        "",
        f"Compiled vs LightGBM on these beats: largest probability difference {np.abs(a.proba - b.proba).max():.1e}; "
        f"{int(np.sum(a.is_anomaly != b.is_anomaly))} of {args.beats} anomaly flags differ.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).with_name("results") / "speed.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
