"""What bounded context costs on the labelled recordings: LightGBM alone, with the level at several widths and with
the recording-level inputs that earlier models read (length, position, the whole recording's median).

Usage: python benchmarks/bench_context.py [--data train.csv] [--output benchmarks/results/context.md]

A quick screen, not the nested CV that ships models: LightGBM with the shipped model's parameters and a fixed 300
trees, 5 folds grouped by recording (seed 42, the nested CV's outer folds), one threshold chosen on the pooled
out-of-fold probabilities of each variant (the same for all: optimistic by the same amount), no post-processing.
It measures what each input is worth on these recordings, whose lengths (32 to 3,661 beats, at least one episode
each) make a recording's length a prior for its share of anomalous beats: a prior that does not hold in a day-long
recording, which is why the shipped features leave it out.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from cardiospike.data import read_recordings
from cardiospike.data.splits import group_folds
from cardiospike.features import FeatureSpec, features_for_recordings
from cardiospike.metrics import f1_score
from cardiospike.recording import Recording, in_model_range

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike" / "train.csv"
PARAMS: dict[str, Any] = {
    "n_estimators": 300,
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_child_samples": 20,
    "colsample_bytree": 0.5,
    "subsample": 0.8,
    "subsample_freq": 1,
    "reg_lambda": 1.0,
    "n_jobs": 1,
    "verbose": -1,
    "random_state": 0,
}


def recording_level(recordings: list[Recording]) -> np.ndarray:
    """The inputs bounded context leaves out: each beat's recording length, its index from the start and from the
    end, and its RR relative to the median of its whole recording's beats in the model's range."""
    columns = []
    for rec in recordings:
        n = len(rec)
        index = np.arange(n, dtype=np.float64)
        valid = in_model_range(rec.rr)
        median = float(np.median(rec.rr[valid])) if valid.any() else np.nan
        columns.append(np.column_stack([np.full(n, n), index, n - 1 - index, rec.rr / median]))
    return np.vstack(columns).astype(np.float32)


def screen(recordings: list[Recording], X: np.ndarray, y: np.ndarray, folds: list) -> tuple[float, list[float]]:
    """Pooled out-of-fold F1 at the best threshold, and each fold's F1 at that threshold."""
    oof = np.zeros(y.size)
    for fold in folds:
        model = lgb.LGBMClassifier(**PARAMS).fit(X[fold.train], y[fold.train])
        oof[fold.test] = np.asarray(model.predict_proba(X[fold.test]))[:, 1]
    f1, threshold = max((f1_score(y, oof >= t), t) for t in np.arange(0.2, 0.8, 0.02))
    return f1, [f1_score(y[f.test], oof[f.test] >= threshold) for f in folds]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results") / "context.md")
    args = parser.parse_args()
    recordings = read_recordings(args.data, fmt="csv")
    y = np.concatenate([r.labels for r in recordings if r.labels is not None]).astype(bool)
    ids = np.repeat([r.id for r in recordings], [len(r) for r in recordings])
    folds = group_folds(ids, 5, 42)
    longest = max(len(r) for r in recordings)
    extra = recording_level(recordings)
    variants = [
        ("shipped: level over 257 beats (level_half 128)", FeatureSpec(), False),
        ("level_half 512", FeatureSpec(level_half=512), False),
        ("level_half 1024", FeatureSpec(level_half=1024), False),
        (f"level_half {longest}: the whole recording's median here", FeatureSpec(level_half=longest), False),
        ("shipped + length, position, RR / whole-recording median", FeatureSpec(), True),
    ]
    rows = []
    for name, spec, with_extra in variants:
        start = time.perf_counter()
        X = features_for_recordings(recordings, spec)
        X = np.hstack([X, extra]) if with_extra else X
        f1, per_fold = screen(recordings, X, y, folds)
        reach = "the whole recording" if with_extra else str(spec.reach)
        rows.append(f"| {name} | {reach} | {f1:.4f} | {' / '.join(f'{v:.3f}' for v in per_fold)} |")
        print(rows[-1], f"({time.perf_counter() - start:.0f} s)", flush=True)
    command = shlex.join(["python", "benchmarks/bench_context.py", *sys.argv[1:]])
    text = "\n".join(
        [
            "# What bounded context costs on the labelled recordings (LightGBM alone, a quick screen)",
            "",
            f"- command: `{command}`",
            f"- data: {args.data.name}, {len(recordings)} recordings, {y.size:,} beats; 5 folds grouped by recording "
            "(seed 42); LightGBM, 300 trees, the shipped parameters; one pooled threshold per variant",
            "",
            "| features | reach (beats) | pooled F1 | F1 per fold |",
            "| --- | ---: | ---: | --- |",
            *rows,
            "",
        ]
    )
    print(text)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
