"""``cardiospike evaluate``: a model's precision, recall and F1 on labelled recordings (training/evaluate.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, fail
from cardiospike.cli.options import FormatOption, IgnoreTimeOption, ModelOption, open_detector, read_input


def evaluate(
    labelled: Annotated[Path, typer.Argument(help="Labelled recordings (with a 'y' column).")],
    model: ModelOption = None,
    fmt: FormatOption = "auto",
    ignore_time: IgnoreTimeOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Precision, recall and F1 of a model on labelled recordings, overall and per recording."""
    from cardiospike.training.evaluate import evaluate_detector

    recordings = read_input(labelled, fmt, ignore_time)
    detector = open_detector(model)
    try:
        evaluation = evaluate_detector(detector, recordings)
    except ValueError as exc:
        raise fail(f"{labelled}: {exc}") from None
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
