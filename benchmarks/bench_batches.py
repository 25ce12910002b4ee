"""How much a recording's scores depend on the batch it is scored in: partitions against one file of them.

Usage: python benchmarks/bench_batches.py [--beats 1000000] [--partitions 6] [--model DIR]

The seeded recordings of ``bench_dask.py`` (2,000 to 8,000 beats each), cut into ``--partitions`` partitions at
whole recordings as it cuts them, are scored two ways in this process with ``Detector.score_many``: each
partition on its own (what every engine does with a dataset's partition) and all of them as one list (what
``predict`` does with one file holding them all). The batches then group the recordings differently; the features'
window sums are added outward from each beat, so no rounding should depend on the batch. Counted: beats whose
probability as written (6 decimals) differs, the largest difference, and flags that differ. Results go to stdout
and benchmarks/results/batches.md.
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import sys
from pathlib import Path

import numpy as np

from bench_dask import partition_bounds, seeded_lengths
from cardiospike.data import simulate_recording
from cardiospike.detector import load_detector
from cardiospike.recording import Recording


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beats", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    detector = load_detector(args.model)
    recordings = [simulate_recording(n, seed=i, id=f"r{i:06d}") for i, n in enumerate(seeded_lengths(args.beats))]
    bounds = partition_bounds(len(recordings), args.partitions)

    def scores(groups: list[list[Recording]]) -> tuple[np.ndarray, np.ndarray]:
        scored = [s for group in groups for s in detector.score_many(group)]
        return np.round(np.concatenate([s.proba for s in scored]), 6), np.concatenate([s.is_anomaly for s in scored])

    parts, part_flags = scores([recordings[a:b] for a, b in itertools.pairwise(bounds)])
    whole, whole_flags = scores([recordings])
    n = parts.size
    differ = int((parts != whole).sum())
    command = shlex.join(["python", "benchmarks/bench_batches.py", *sys.argv[1:]])
    text = "\n".join(
        [
            "# Scores of the same recordings in other batches",
            "",
            f"- command: `{command}`",
            f"- model: {detector.model_version}",
            f"- {n:,} synthetic beats in {len(recordings)} recordings: {args.partitions} partitions, each scored on "
            "its own, against all of them as one list",
            "",
            "| what | value |",
            "| --- | ---: |",
            f"| beats whose written probability differs | {differ:,} ({differ / n:.2%}) |",
            f"| largest difference | {np.abs(parts - whole).max():.6f} |",
            f"| flags that differ | {int((part_flags != whole_flags).sum())} |",
        ]
    )
    print(text)
    path = Path(__file__).with_name("results") / "batches.md"
    path.write_text(text + "\n")


if __name__ == "__main__":
    main()
