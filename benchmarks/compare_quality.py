"""Paired comparison of two nested-CV runs on the same recordings: is B better than A, or is it noise?

Usage:
    python benchmarks/bench_quality.py --data train.csv --predictions a.npz --output a.md [OVERRIDES of A]
    python benchmarks/bench_quality.py --data train.csv --predictions b.npz --output b.md [OVERRIDES of B]
    python benchmarks/compare_quality.py a.npz b.npz [--model NAME] [--boot 2000]

Both runs must share the folds (same data, ``cv`` settings and seed), so every beat is predicted by each run from a
model that never saw its recording. The difference of pooled per-beat F1 gets a 95% interval from a paired
bootstrap over recordings (the same resampled recordings score both runs), since beats of one recording are not
independent. Also per outer fold, per-recording quartiles, episodes found, missed and false, and how far found episodes'
flagged edges lie from the labelled ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from cardiospike.metrics import boundary_errors, episode_counts, precision_recall_f1


def load(path: str, model: str | None) -> dict[str, NDArray]:
    """A run's arrays; with ``model``, that base model's flags in place of the stack's."""
    with np.load(path, allow_pickle=False) as z:
        run = {k: z[k] for k in z.files}
    if model is not None:
        names = list(run["names"])
        if model not in names:
            raise SystemExit(f"{path}: no base model {model!r} (it has {', '.join(names)})")
        run["flags"] = run["base_flags"][:, names.index(model)]
    return run


def recording_counts(run: dict[str, NDArray], index: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """True positives, false positives and false negatives of each recording: shape (3, recordings)."""
    y, f = run["y"].astype(bool), run["flags"].astype(bool)
    return np.stack([np.bincount(index, weights=m, minlength=n) for m in (y & f, ~y & f, y & ~f)])


def f1_of(counts: NDArray[np.float64]) -> float:
    return float(precision_recall_f1(*counts.sum(axis=-1))[2])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("a", help="predictions of run A (bench_quality.py --predictions)")
    parser.add_argument("b", help="predictions of run B")
    parser.add_argument("--model", default=None, help="compare this base model alone (e.g. lgbm), not the stacks")
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap resamples")
    args = parser.parse_args()
    a, b = load(args.a, args.model), load(args.b, args.model)
    if not (np.array_equal(a["ids"], b["ids"]) and np.array_equal(a["y"], b["y"])):
        raise SystemExit("the runs scored different beats: compare runs on the same data")
    if not np.array_equal(a["fold"], b["fold"]):
        raise SystemExit("the runs used different folds: compare runs with the same cv settings and seed")
    recordings, index = np.unique(a["ids"], return_inverse=True)
    ca, cb = recording_counts(a, index, recordings.size), recording_counts(b, index, recordings.size)
    rng = np.random.default_rng(0)
    samples = rng.integers(0, recordings.size, (args.boot, recordings.size))
    diffs = np.array([f1_of(cb[:, s]) - f1_of(ca[:, s]) for s in samples])
    low, high = np.quantile(diffs, [0.025, 0.975])
    fa, fb = f1_of(ca), f1_of(cb)
    print(f"A {Path(args.a).name}: F1 {fa:.4f}   B {Path(args.b).name}: F1 {fb:.4f}")
    print(
        f"B - A: {fb - fa:+.4f}, 95% interval [{low:+.4f}, {high:+.4f}] (paired bootstrap over {recordings.size} "
        f"recordings, {args.boot} resamples); B better in {np.mean(diffs > 0):.1%} of resamples"
    )
    for k in np.unique(a["fold"]):
        in_fold = np.unique(index[a["fold"] == k])
        print(f"  outer fold {k}: {f1_of(ca[:, in_fold]):.4f} -> {f1_of(cb[:, in_fold]):.4f}")
    per_a, per_b = precision_recall_f1(*ca)[2], precision_recall_f1(*cb)[2]
    qa, qb = np.quantile(per_a, [0.25, 0.5, 0.75]), np.quantile(per_b, [0.25, 0.5, 0.75])
    print(f"  per-recording F1 quartiles: {' / '.join(f'{q:.3f}' for q in qa)} -> {' / '.join(f'{q:.3f}' for q in qb)}")
    ea, eb = (episode_counts(r["y"], r["flags"], r["ids"]) for r in (a, b))
    print(f"  episodes found / missed / false: {' / '.join(map(str, ea))} -> {' / '.join(map(str, eb))}")

    def edges(run: dict[str, NDArray]) -> str:
        start, end = boundary_errors(run["y"], run["flags"], run["ids"])
        return (
            f"start {np.abs(start).mean():.2f} (signed {start.mean():+.2f}), "
            f"end {np.abs(end).mean():.2f} (signed {end.mean():+.2f})"
        )

    print(f"  found episodes' boundary error, mean beats: {edges(a)} -> {edges(b)}")


if __name__ == "__main__":
    main()
