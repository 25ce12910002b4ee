"""``cardiospike predict``: score recordings into one CSV row per input beat, written atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, err_console, fail, progress
from cardiospike.cli.datasets import EngineOption, ResumeOption, SchedulerOption, predict_dataset, wants_engine
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
from cardiospike.recording import MOSTLY_ERRORS

if TYPE_CHECKING:
    from cardiospike.detector import ScoredRecording

#: Recordings shown one per row after scoring; beyond, one line of totals.
MAX_TABLE_ROWS = 20


def _check_threshold(value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:  # NaN fails both comparisons too
        raise typer.BadParameter("must be a number from 0 to 1")
    return value


ThresholdOption = Annotated[
    float | None,
    typer.Option(callback=_check_threshold, help="Decision threshold from 0 to 1 (default: the model's)."),
]


def predict(
    # A string, not a Path: a Path would turn s3://bucket/x into s3:/bucket/x.
    input: Annotated[
        str,
        typer.Argument(
            help="Recordings to score: a file in any input format, or a Parquet dataset folder (local or s3://)."
        ),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            help="Scored CSV to write (- for standard output), or Parquet: NAME.parquet, a folder for a dataset, or "
            "an s3:// URL.",
        ),
    ],
    model: ModelOption = None,
    fmt: FormatOption = "auto",
    unit: UnitOption = "auto",
    rr_column: RRColumnOption = None,
    time_column: TimeColumnOption = None,
    ignore_time: IgnoreTimeOption = False,
    threshold: ThresholdOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Where the output is a symbolic link, replace the file it points to.")
    ] = False,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    resume: ResumeOption = False,
) -> None:
    """Score recordings: one row per input beat, in input order, with id,time,x,y,anomaly_proba,error and the
    input's other columns."""
    if wants_engine(input, output, engine, scheduler, resume):  # Parquet out, or a dataset in: cli/datasets.py
        how = InputOptions(fmt, ignore_time, unit, rr_column, time_column)
        return predict_dataset(
            input, output, model=model, how=how, threshold=threshold, engine=engine, scheduler=scheduler,
            resume=resume, force=force,
        )  # fmt: skip

    import pandas as pd

    from cardiospike.data.output import OutputError, output_target, write_csv
    from cardiospike.detector import batches_of

    try:
        target = output_target(output, [input], force=force)
    except OutputError as exc:
        raise fail(str(exc)) from None
    how = InputOptions(fmt, ignore_time, unit, rr_column, time_column)
    recordings = read_input(Path(input), how, keep_columns=True)
    detector = open_detector(model)
    scored: list[ScoredRecording] = []
    with progress() as bar:
        task = bar.add_task("scoring", total=len(recordings))
        for batch in batches_of(recordings):  # one call of the model per batch, however many recordings it holds
            scored += detector.score_many(batch, threshold)
            bar.advance(task, len(batch))
    frame = pd.concat([s.to_frame() for s in scored], ignore_index=True)
    if recordings.extra is not None and len(recordings.extra.columns):
        frame = pd.concat([frame, recordings.extra.reset_index(drop=True)], axis=1)
    try:
        write_csv(frame, target)
    except OutputError as exc:
        raise fail(str(exc)) from None
    # With the CSV on standard output, the summary goes to standard error.
    out = console if target is not None else err_console
    summarise(scored, out)
    out.print(f"-> {escape(str(target or 'standard output'))}", highlight=False)
    warn_mostly_errors(scored)


def summarise(scored: Sequence[ScoredRecording], out: Console) -> None:
    """A row per recording (beats, episodes, anomalous share, measurement errors), or one line of totals."""
    from cardiospike.summary import episodes_of

    n_beats = sum(len(s.recording) for s in scored)
    anomalous = sum(int(s.is_anomaly.sum()) for s in scored)
    errors = sum(int(s.error.sum()) for s in scored)
    if len(scored) <= MAX_TABLE_ROWS:
        table = Table(title=f"Scored {len(scored)} recording(s)")
        for col in ("id", "beats", "episodes", "anomalous", "errors"):
            table.add_column(col, justify="left" if col == "id" else "right")
        for s in scored:
            n = len(s.recording)
            table.add_row(
                escape(s.recording.id), str(n), str(len(episodes_of(s))), f"{s.is_anomaly.mean():.1%}",
                str(int(s.error.sum())),
            )  # fmt: skip
        out.print(table)
    episodes = sum(len(episodes_of(s)) for s in scored) if len(scored) > MAX_TABLE_ROWS else None
    shown = "" if episodes is None else f", {episodes} episodes"
    out.print(
        f"Scored {len(scored)} recording(s), {n_beats} beats{shown}: {anomalous} anomalous "
        f"({anomalous / max(n_beats, 1):.1%}), {errors} measurement errors",
        highlight=False,
    )


def warn_mostly_errors(scored: Sequence[ScoredRecording]) -> None:
    """Say which recordings are mostly measurement errors: their RR are probably in another unit or column."""
    bad = [s for s in scored if s.error.mean() > MOSTLY_ERRORS]
    if not bad:
        return
    names = ", ".join(repr(s.recording.id) for s in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    other = "ms" if all(s.recording.unit == "s" for s in bad) else "s"
    err_console.print(
        f"[bold yellow]Warning:[/] more than half the beats of {len(bad)} recording(s) ({escape(names)}) are "
        f"measurement errors (RR outside the measurement range): is RR in another unit or column? Try --unit {other}"
        ", or --rr-column NAME.",
        highlight=False,
        soft_wrap=True,
    )
