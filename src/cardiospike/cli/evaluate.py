"""``cardiospike evaluate``: a model's precision, recall and F1 on labelled recordings (training/evaluate.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, err_console, fail
from cardiospike.cli.options import (
    FormatOption,
    IgnoreTimeOption,
    InputOptions,
    ModelOption,
    RRColumnOption,
    TimeColumnOption,
    UnitOption,
    open_detector,
    read_input,
)

if TYPE_CHECKING:
    from cardiospike.detector import Detector


def evaluate(
    labelled: Annotated[Path, typer.Argument(help="Labelled recordings (with a 'y' column).")],
    model: ModelOption = None,
    fmt: FormatOption = "auto",
    unit: UnitOption = "auto",
    rr_column: RRColumnOption = None,
    time_column: TimeColumnOption = None,
    ignore_time: IgnoreTimeOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Precision, recall and F1 of a model on labelled recordings, overall and per recording."""
    from cardiospike.training.evaluate import evaluate_detector

    recordings = read_input(
        labelled,
        InputOptions(fmt=fmt, ignore_time=ignore_time, unit=unit, rr_column=rr_column, time_column=time_column),
    )
    detector = open_detector(model)
    try:
        evaluation = evaluate_detector(detector, recordings)
    except ValueError as exc:
        raise fail(f"{labelled}: {exc}") from None
    warn_if_training_data(labelled, detector)
    if as_json:
        typer.echo(json.dumps(evaluation.to_dict(), indent=2, default=str))
        return
    table = Table(title=f"Per recording (model {detector.model_version}, threshold {detector.threshold:.3f})")
    for col in ("id", "beats", "precision", "recall", "F1"):
        table.add_column(col, justify="right")
    for row in evaluation.per_recording.itertuples():
        table.add_row(
            escape(str(row.id)), str(row.n_beats), f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}"
        )
    console.print(table)
    overall = evaluation.overall
    console.print(
        f"[bold]Overall[/]: F1 {overall['f1']:.4f}, precision {overall['precision']:.4f}, "
        f"recall {overall['recall']:.4f}, PR-AUC {overall['pr_auc']:.4f} over {overall['n_beats']} beats"
    )


def warn_if_training_data(path: Path, detector: Detector) -> None:
    """Warn (on standard error) where the file is the one the model was trained on: its manifest has its SHA-256."""
    from cardiospike.artifact import sha256_file

    trained_on = detector.artifact.entry("training", "data", "sha256")
    if trained_on is None or trained_on != sha256_file(path):  # hashing the file only where there is one to match
        return
    cv = detector.artifact.cv_f1
    held_out = f" (its cross-validated F1 is {cv:.4f})" if cv is not None else ""
    err_console.print(
        f"[bold yellow]Warning:[/] {escape(str(path))} is the model's training data (its SHA-256 is the one in the "
        f"model's manifest): these scores say how well the model fits it, not how it does on new recordings"
        f"{held_out}.",
        highlight=False,
        soft_wrap=True,
    )
