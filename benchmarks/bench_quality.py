"""Nested cross-validation quality of the training procedure on train.csv.

Usage:
    python benchmarks/bench_quality.py                      # the figures measured when the default model was trained
    python benchmarks/bench_quality.py --model DIR          # ... when another artifact was trained
    python benchmarks/bench_quality.py --data train.csv [OVERRIDES]   # run the nested CV afresh (about 30 minutes;
                                                                      # 3 with model/nn=none)
    python benchmarks/bench_quality.py --data train.csv --predictions a.npz [OVERRIDES]
                                                    # ... and keep every beat's outer prediction, for
                                                    # benchmarks/compare_quality.py a.npz b.npz

A fresh run composes the same Hydra configuration as ``cardiospike train`` (with the same overrides, e.g.
``model/nn=cardionet cv.outer=3``), so it measures exactly what training measures: recording-grouped nested CV whose
inner folds choose rounds, stacking, threshold and post-processing. Results go to stdout and --output
(default benchmarks/results/quality.md).
"""

from __future__ import annotations

import argparse
import shlex
import time
from pathlib import Path
from typing import Any

from cardiospike.artifact import read_manifest
from cardiospike.detector import default_model_path
from cardiospike.training.cv import outer_predictions
from cardiospike.training.learners import TrainingData
from cardiospike.training.run import TrainingRun, load_recordings


def run_fresh(data: str, overrides: list[str], predictions: str | None) -> tuple[dict[str, Any], str]:
    run = TrainingRun.compose([f"data.path={data}", *overrides])
    recordings = load_recordings(run.cfg.data)
    start = time.perf_counter()
    outer = outer_predictions(TrainingData.build(recordings, run.config.features), run.config)
    minutes = (time.perf_counter() - start) / 60
    if predictions:
        outer.save(predictions)
    report = outer.report(run.config.cv.protocol)
    command = shlex.join(["python", "benchmarks/bench_quality.py", "--data", data, *overrides])
    return report, f"`{command}` ({minutes:.1f} min on this machine)"


def render(report: dict[str, Any], how: str) -> str:
    o, r = report["outer"], report["per_recording_f1"]
    lines = [
        f"# Nested cross-validation on train.csv: {report.get('models', 'lgbm')}",
        "",
        f"- measured by: {how}",
        f"- protocol: {report['protocol']}",
        f"- model: {report.get('models', 'lgbm')}",
        f"- {o['n_beats']} beats, {o['n_positive']} positive",
        "",
        "| pooled over outer folds, per beat | value |",
        "| --- | ---: |",
        *(f"| {k} | {o[k]:.4f} |" for k in ("f1", "precision", "recall", "pr_auc")),
        *(
            f"| f1 of {name} alone | {m['f1']:.4f} |"
            for name, m in report.get("base_models", {}).items()
            if len(report["base_models"]) > 1
        ),
        "",
        "| outer fold | recordings | trees | threshold | smoothing | max gap | min run | F1 | precision | recall |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {f['fold']} | {f['n_recordings']} | {f['n_estimators']} | {f['threshold']:.2f} "
            f"| {f['postprocess']['smooth']} | {f['postprocess']['max_gap']} | {f['postprocess']['min_run']} "
            f"| {f['f1']:.4f} | {f['precision']:.4f} | {f['recall']:.4f} |"
            for f in report["folds"]
        ),
        *_base_model_lines(report),
        *_view_lines(report),
        *_episode_lines(report),
        "",
        f"Per-recording F1: mean {r['mean']:.3f}, quartiles {r['q25']:.3f} / {r['median']:.3f} / {r['q75']:.3f}; "
        "worst: " + ", ".join(f"{w['id']} ({w['f1']:.2f}, {w['n_beats']} beats)" for w in r["worst"]),
        "",
        "Variants tried on the same folds, shipped or not, with their figures: `quality-experiments.md`.",
    ]
    return "\n".join(lines) + "\n"


def _base_model_lines(report: dict[str, Any]) -> list[str]:
    """For a stack: F1 of the stack and of each base model alone, per outer fold (the same folds)."""
    names = list(report.get("base_models", {}))
    if len(names) < 2:
        return []
    best = max(report["base_models"][name]["f1"] for name in names)
    return [
        "",
        f"Stack minus the best base model alone, pooled F1: {report['outer']['f1'] - best:+.4f}",
        "",
        "| outer fold | stack F1 | " + " | ".join(f"{name} alone" for name in names) + " |",
        "| ---: | ---: | " + " | ".join("---:" for _ in names) + " |",
        *(
            f"| {f['fold']} | {f['f1']:.4f} | " + " | ".join(f"{f['base_f1'][name]:.4f}" for name in names) + " |"
            for f in report["folds"]
        ),
    ]


def _view_lines(report: dict[str, Any]) -> list[str]:
    """Per-beat F1 of the recordings as labelled, laid end to end and cut into pieces, where the report has them."""
    views = report.get("views")
    if not views:
        return []
    o = report["outer"]
    rows = [("recordings as labelled", o["f1"], o["precision"], o["recall"], o["n_beats"], report["f1_per_fold"])]
    names = {"long": "laid end to end (one recording per fold)", "pieces": "cut into pieces of 64-256 beats"}
    rows += [
        (names.get(k, k), v["f1"], v["precision"], v["recall"], v["n_beats"], v["f1_per_fold"])
        for k, v in views.items()
    ]
    return [
        "",
        "Views of each outer fold's recordings, scored by the model that never saw them "
        "(`cardiospike.training.views`): as labelled, shuffled and laid end to end as one recording (repeated, each "
        "time in a new order, to at least 100,000 beats), and each cut into pieces of 64-256 beats.",
        "",
        "| view | per-beat F1 | minus as labelled | precision | recall | beats | F1 per outer fold |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *(
            f"| {name} | {f1:.4f} | {f1 - o['f1']:+.4f} | {p:.4f} | {r:.4f} | {n:,} | "
            + " / ".join(f"{x:.4f}" for x in folds)
            + " |"
            for name, f1, p, r, n, folds in rows
        ),
    ]


def _episode_lines(report: dict[str, Any]) -> list[str]:
    """Episodes (runs of anomalous beats) found, missed and false, where the report has them."""
    e = report.get("episodes")
    if e is None:
        return []
    return [
        "",
        f"Episodes: {e['found']} of {e['found'] + e['missed']} labelled found ({e['recall']:.1%}; an episode is "
        f"found where any of its beats is flagged), {e['false']} false (flagged runs touching no labelled beat)"
        + (
            f"; a found episode's flagged start and end lie {e['start_error']:.2f} and {e['end_error']:.2f} beats "
            "from the labelled ones on average"
            if "start_error" in e
            else ""
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None, help="artifact whose recorded nested-CV figures to show")
    parser.add_argument("--data", default=None, help="labelled CSV: run the nested CV afresh")
    parser.add_argument("--predictions", default=None, help="with --data: .npz file for every beat's prediction")
    parser.add_argument("--output", default=str(Path(__file__).with_name("results") / "quality.md"))
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the training config (with --data)")
    args = parser.parse_args()
    if args.data:
        report, how = run_fresh(args.data, args.overrides, args.predictions)
    else:
        manifest = read_manifest(args.model or default_model_path())
        report = manifest["cv"]
        how = f"`{manifest['training']['command']}` (model {manifest['model_version']}; figures from its manifest)"
    text = render(report, how)
    print(text)
    out = Path(args.output)
    out.parent.mkdir(exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    main()
