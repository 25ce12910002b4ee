"""Nested cross-validation quality of the training procedure on train.csv.

Usage: python benchmarks/bench_quality.py --data ../shared/data/cardiospike/train.csv [--outer 5 --inner 5]

Runs the same nested CV as ``cardiospike train`` (recording-grouped, inner folds choose boosting rounds and
threshold, outer folds report) and writes benchmarks/results/quality.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from cardiospike.data import read_recordings
from cardiospike.features import features_for_recordings
from cardiospike.training.cv import CVConfig, TrainConfig, nested_cv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--outer", type=int, default=5)
    parser.add_argument("--inner", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    config = TrainConfig(cv=CVConfig(outer=args.outer, inner=args.inner, seed=args.seed))
    recordings = read_recordings(args.data)
    start = time.perf_counter()
    X = features_for_recordings(recordings, config.features)
    y = np.concatenate([r.labels for r in recordings if r.labels is not None])
    ids = np.repeat([r.id for r in recordings], [len(r) for r in recordings])
    report = nested_cv(X, y, ids, config)
    elapsed = time.perf_counter() - start
    o, r = report["outer"], report["per_recording_f1"]
    lines = [
        "# Nested cross-validation on train.csv (LightGBM)",
        "",
        f"- command: `python benchmarks/bench_quality.py --data {args.data} --outer {args.outer} "
        f"--inner {args.inner} --seed {args.seed}`",
        f"- protocol: {report['protocol']}",
        f"- {o['n_beats']} beats, {len(recordings)} recordings; took {elapsed / 60:.1f} min on this machine",
        "",
        "| pooled per-beat | value |",
        "| --- | ---: |",
        *(f"| {k} | {o[k]:.4f} |" for k in ("f1", "precision", "recall", "pr_auc")),
        "",
        "| outer fold | recordings | trees | threshold | F1 | precision | recall |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {f['fold']} | {f['n_recordings']} | {f['n_estimators']} | {f['threshold']:.3f} | {f['f1']:.4f} "
            f"| {f['precision']:.4f} | {f['recall']:.4f} |"
            for f in report["folds"]
        ),
        "",
        f"Per-recording F1: mean {r['mean']:.3f}, quartiles {r['q25']:.3f} / {r['median']:.3f} / {r['q75']:.3f}; "
        "worst: " + ", ".join(f"{w['id']} ({w['f1']:.2f}, {w['n_beats']} beats)" for w in r["worst"]),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).with_name("results") / "quality.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
