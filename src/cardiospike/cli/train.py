"""``cardiospike train``: nested cross-validation, the final models, and the artifact (see training/run.py)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, fail, progress

#: Hydra overrides are arguments of their own, whatever they look like.
CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}


def train(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="Hydra overrides of the config in cardiospike/conf, e.g. cv.outer=3 model.lgbm.num_leaves=15."
        ),
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Labelled recordings (sets data.path).")] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Artifact folder or s3:// URL to write (sets out).")
    ] = None,
    cfg: Annotated[str | None, typer.Option("--cfg", help="Print the resolved configuration ('job') and exit.")] = None,
    predictions: Annotated[
        Path | None,
        typer.Option(
            "--predictions",
            help="Also write every beat's outer nested-CV prediction to this .npz file (for compare_quality.py).",
        ),
    ] = None,
) -> None:
    """Train the beat detector with nested cross-validation and write a model artifact."""
    try:
        from cardiospike.training.config import ConfigError
        from cardiospike.training.run import TrainingRun
    except ImportError as exc:
        raise fail(
            f"training needs the 'train' extra ({exc.name} is missing): pip install 'cardiospike[train]'"
        ) from None
    from cardiospike.artifact import ArtifactError
    from cardiospike.data import RecordingFormatError

    given = [*(overrides or [])]
    given += [f"data.path={data}"] if data is not None else []
    given += [f"out={out}"] if out is not None else []
    try:
        run = TrainingRun.compose(given)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if cfg is not None:
        if cfg != "job":
            raise fail(f"--cfg takes 'job', not {cfg!r}")
        from omegaconf import OmegaConf

        typer.echo(OmegaConf.to_yaml(run.cfg))
        return
    # Rebuilt from the arguments, so the record reads the same whatever shell or wrapper started the run
    # (--predictions changes no model: it is left out).
    command = shlex.join(
        ["cardiospike", "train"]
        + (["--data", str(data)] if data is not None else [])
        + (["--out", str(out)] if out is not None else [])
        + list(overrides or [])
    )
    try:
        with progress() as bar:
            task = bar.add_task("nested cross-validation", total=run.n_steps)
            trained = run.execute(command, step=lambda what: bar.update(task, advance=1, description=what))
    except (RecordingFormatError, ValueError, ArtifactError) as exc:  # bad data; an s3:// folder that cannot be written
        raise fail(str(exc)) from None
    result = trained.result
    if predictions is not None:
        result.outer.save(predictions)
    _print_cv(result.report)
    post, rounds = result.postprocess, result.fitted.tuning.rounds
    console.print(
        f"Model written to [bold]{escape(str(trained.location))}[/]: {result.report['models']}, rounds {rounds}, "
        f"threshold {post.threshold:.2f}, smoothing ±{post.smooth}, gaps filled up to {post.max_gap}, runs of at least "
        f"{post.min_run} beats"
    )


def _print_cv(report: dict[str, Any]) -> None:
    o = report["outer"]
    table = Table(title="Nested cross-validation (outer folds)")
    for col in ("fold", "recordings", "trees", "threshold", "F1", "precision", "recall", "PR-AUC"):
        table.add_column(col, justify="right")
    for f in report["folds"]:
        table.add_row(
            str(f["fold"]), str(f["n_recordings"]), str(f["n_estimators"]), f"{f['threshold']:.3f}",
            f"{f['f1']:.4f}", f"{f['precision']:.4f}", f"{f['recall']:.4f}", f"{f['pr_auc']:.4f}",
        )  # fmt: skip
    table.add_row(
        "pooled", "", "", "", f"{o['f1']:.4f}", f"{o['precision']:.4f}", f"{o['recall']:.4f}", f"{o['pr_auc']:.4f}",
        style="bold",
    )  # fmt: skip
    console.print(table)
    r = report["per_recording_f1"]
    worst = escape(", ".join(f"{w['id']} ({w['f1']:.2f})" for w in r["worst"]))
    console.print(
        f"Per-recording F1: mean {r['mean']:.3f}, quartiles {r['q25']:.3f} / {r['median']:.3f} / {r['q75']:.3f}; "
        f"worst: {worst}"
    )
