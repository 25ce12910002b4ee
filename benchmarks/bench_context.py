"""What bounded context costs on the labelled recordings: LightGBM alone, with the level at several widths and with
the recording-level inputs that earlier models read (length, position, the whole recording's median).

Usage: python benchmarks/bench_context.py [--data train.csv] [--output benchmarks/results/context.md]

A quick screen, not the nested CV that ships models: LightGBM with the shipped model's parameters and a fixed 300
trees, 5 folds grouped by recording (seed 42, the nested CV's outer folds), one threshold chosen on the pooled
out-of-fold probabilities of each variant (the same for all: optimistic by the same amount), no post-processing.
Features of bounded context are also scored on each fold's held-out recordings laid end to end
(30,000 beats a fold, :func:`~cardiospike.training.views.laid_end_to_end`) at the same threshold. It measures what
each input is worth on these recordings, whose lengths (32 to 3,661 beats, at least one episode
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
from cardiospike.training.views import laid_end_to_end

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


def screen(
    recordings: list[Recording], X: np.ndarray, y: np.ndarray, folds: list, spec: FeatureSpec | None
) -> tuple[float, list[float], float | None]:
    """Pooled out-of-fold F1 at the best threshold, each fold's F1 at that threshold, and (with ``spec``: features
    of bounded context) the pooled F1 at that threshold of each fold's recordings laid end to end (30,000 beats)."""
    oof = np.zeros(y.size)
    joined: list[tuple[np.ndarray, np.ndarray]] = []
    owner = np.repeat(np.arange(len(recordings)), [len(r) for r in recordings])
    for k, fold in enumerate(folds):
        model = lgb.LGBMClassifier(**PARAMS).fit(X[fold.train], y[fold.train])
        oof[fold.test] = np.asarray(model.predict_proba(X[fold.test]))[:, 1]
        if spec is not None:
            held_out = [recordings[i] for i in np.unique(owner[fold.test])]
            long = laid_end_to_end(held_out, np.random.default_rng(k), 30_000)
            proba = np.asarray(model.predict_proba(features_for_recordings([long], spec)))[:, 1]
            joined.append((np.asarray(long.labels, dtype=bool), proba))
    f1, threshold = max((f1_score(y, oof >= t), t) for t in np.arange(0.2, 0.8, 0.02))
    long_f1 = None
    if joined:
        long_f1 = f1_score(np.concatenate([j[0] for j in joined]), np.concatenate([j[1] for j in joined]) >= threshold)
    return f1, [f1_score(y[f.test], oof[f.test] >= threshold) for f in folds], long_f1


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
        ("level_half 32", FeatureSpec(level_half=32), False),
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
        f1, per_fold, long_f1 = screen(recordings, X, y, folds, None if with_extra else spec)
        reach = "the whole recording" if with_extra else str(spec.reach)
        long = "n/a" if long_f1 is None else f"{long_f1:.4f}"
        rows.append(f"| {name} | {reach} | {f1:.4f} | {long} | {' / '.join(f'{v:.3f}' for v in per_fold)} |")
        print(rows[-1], f"({time.perf_counter() - start:.0f} s)", flush=True)
    command = shlex.join(["python", "benchmarks/bench_context.py", *sys.argv[1:]])
    text = "\n".join(
        [
            "# What bounded context costs on the labelled recordings (LightGBM alone, a quick screen)",
            "",
            f"- command: `{command}`",
            f"- data: {args.data.name}, {len(recordings)} recordings, {y.size:,} beats; 5 folds grouped by recording "
            "(seed 42); LightGBM, 300 trees, the shipped parameters; one pooled threshold per variant; laid end to "
            "end: each fold's held-out recordings joined (30,000 beats) and scored at that threshold",
            "",
            "| features | reach (beats) | pooled F1 | laid end to end | F1 per fold |",
            "| --- | ---: | ---: | ---: | --- |",
            *rows,
            "",
        ]
    )
    print(text)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
