"""``cardiospike evaluate``: a model's precision, recall and F1 on labelled recordings (training/evaluate.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, err_console, fail
from cardiospike.cli.options import (
    FormatOption,
    IdColumnOption,
    IgnoreTimeOption,
    ModelOption,
    RRColumnOption,
    TimeColumnOption,
    UnitOption,
    open_detector,
    read_input,
)
from cardiospike.recording import Reading

if TYPE_CHECKING:
    from cardiospike.detector import Detector
    from cardiospike.recording import Recording


def evaluate(
    labelled: Annotated[
        Path,
        typer.Argument(help="Labelled recordings (a 'y' or 'label' column; 'label' where both, as in a scored file)."),
    ],
    model: ModelOption = None,
    fmt: FormatOption = "auto",
    unit: UnitOption = "auto",
    rr_column: RRColumnOption = None,
    id_column: IdColumnOption = None,
    time_column: TimeColumnOption = None,
    ignore_time: IgnoreTimeOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Precision, recall and F1 of a model on labelled recordings, overall and per recording."""
    from cardiospike.training.evaluate import evaluate_detector

    recordings = read_input(
        labelled,
        Reading.of_options(fmt, unit, rr_column, time_column, id_column, ignore_time),
    )
    detector = open_detector(model)
    try:
        evaluation = evaluate_detector(detector, recordings)
    except ValueError as exc:
        raise fail(f"{labelled}: {exc}") from None
    seen = training_overlap(labelled, detector, recordings)
    if as_json:
        typer.echo(json.dumps({**evaluation.to_dict(), "training_data": seen}, indent=2, default=str))
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


def training_overlap(path: Path, detector: Detector, recordings: Sequence[Recording]) -> dict[str, Any]:
    """How many of the recordings the model was trained on, and the warning (on standard error) where any was.

    By the fingerprints of its training recordings where the manifest has them (a training recording cut short,
    renamed or among others is found); else, for models trained before those were recorded, by the SHA-256 of the
    whole training file (all the recordings, or none). The answer, for ``--json``: ``in_training`` (None where the
    model records neither), ``recordings``, ``matched_by`` (``fingerprints``, ``file`` or None) and ``warning``.
    """
    from cardiospike.artifact import sha256_file
    from cardiospike.training.evaluate import in_training_data, overlap_warning

    n_seen = in_training_data(detector.artifact, recordings)
    matched_by: str | None = "fingerprints"
    if n_seen is None:
        trained_on = detector.artifact.entry("training", "data", "sha256")
        matched_by = None if trained_on is None else "file"
        # The file is hashed only where there is a hash to match.
        n_seen = None if trained_on is None else len(recordings) if trained_on == sha256_file(path) else 0
    warning = overlap_warning(n_seen, len(recordings)) if n_seen else None
    if warning is not None:
        cv = detector.artifact.cv_f1
        held_out = f" (its cross-validated F1 is {cv:.4f})" if cv is not None else ""
        err_console.print(f"[bold yellow]Warning:[/] {escape(warning)}{held_out}.", highlight=False, soft_wrap=True)
    return {"in_training": n_seen, "recordings": len(recordings), "matched_by": matched_by, "warning": warning}
