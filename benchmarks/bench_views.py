"""A model on the labelled recordings as labelled, laid end to end and cut into pieces: the same beats, scored alike?

Usage: python benchmarks/bench_views.py [--model DIR] [--data train.csv] [--output benchmarks/results/views.md]

The views of :mod:`cardiospike.training.views` (seed 0): the recordings as labelled; all of them shuffled and laid end
to end as one recording, repeated to 100,000 beats at least; each cut into pieces of 64-256 beats. The shipped model
was trained on train.csv, so its F1 here is in-sample: what this shows is whether the same beats get the same flags
in every view (a model that reads a recording's length, a beat's position or the whole recording's median does
not). The honest figures of each view are the nested CV's (``bench_quality.py``).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from cardiospike.data import read_recordings
from cardiospike.detector import load_detector
from cardiospike.metrics import f1_score
from cardiospike.training.views import cut_into_pieces, laid_end_to_end

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "cardiospike" / "train.csv"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("results") / "views.md")
    args = parser.parse_args()
    detector = load_detector(args.model)
    recordings = read_recordings(args.data)
    rng = np.random.default_rng(0)
    views = {
        "as labelled": recordings,
        "laid end to end (one recording)": [laid_end_to_end(recordings, rng)],
        "cut into pieces of 64-256 beats": cut_into_pieces(recordings, rng),
    }
    rows = []
    for name, recs in views.items():
        start = time.perf_counter()
        flags = np.concatenate([s.is_anomaly for s in detector.score_many(recs)])
        seconds = time.perf_counter() - start
        labels = np.concatenate([r.labels for r in recs if r.labels is not None]).astype(bool)
        rows.append(
            f"| {name} | {len(recs):,} | {labels.size:,} | {int(labels.sum()):,} | {int(flags.sum()):,} | "
            f"{f1_score(labels, flags):.4f} | {seconds:.2f} s |"
        )
        print(rows[-1], flush=True)
    command = shlex.join(["python", "benchmarks/bench_views.py", *sys.argv[1:]])
    text = "\n".join(
        [
            f"# {detector.model_version} on the views of {args.data.name} (in-sample for a model trained on it)",
            "",
            f"- command: `{command}`",
            "",
            "| view | recordings | beats | labelled anomalous | flagged | per-beat F1 | scoring time |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *rows,
            "",
        ]
    )
    print(text)
    args.output.parent.mkdir(exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
