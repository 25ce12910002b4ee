"""``cardiospike predict``: score recordings into one CSV row per input beat, written atomically."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, counted, err_console, fail, progress, warn_mostly_errors
from cardiospike.cli.datasets import EngineOption, ResumeOption, SchedulerOption, predict_dataset, wants_engine
from cardiospike.cli.options import (
    ForceOption,
    FormatOption,
    IgnoreTimeOption,
    InputOptions,
    ModelOption,
    RRColumnOption,
    ThresholdOption,
    TimeColumnOption,
    UnitOption,
    open_detector,
    read_input,
)
from cardiospike.recording import NAMED_MOSTLY_ERRORS, mostly_errors

if TYPE_CHECKING:
    from cardiospike.detector import ScoredRecording

#: Recordings shown one per row after scoring; beyond, one line of totals.
MAX_TABLE_ROWS = 20


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
    force: ForceOption = False,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    resume: ResumeOption = False,
) -> None:
    """Score recordings: one row per input beat, in input order, with id,time,x,y,anomaly_proba,error and the
    input's other columns."""
    how = InputOptions(fmt=fmt, ignore_time=ignore_time, unit=unit, rr_column=rr_column, time_column=time_column)
    if wants_engine(input, output, engine, scheduler, resume):  # Parquet out, or a dataset in: cli/datasets.py
        return predict_dataset(
            input, output, model=model, how=how, threshold=threshold, engine=engine, scheduler=scheduler,
            resume=resume, force=force,
        )  # fmt: skip

    from cardiospike.data.output import OutputError, output_target, write_csv
    from cardiospike.detector import scored_columns

    try:
        target = output_target(output, [input], force=force)
    except OutputError as exc:
        raise fail(str(exc)) from None
    recordings = read_input(Path(input), how, keep_columns=True)
    detector = open_detector(model)
    summaries: list[Scored] = []

    def parts() -> Iterator[dict[str, Any]]:
        """The scored CSV batch by batch: memory holds one batch of scored beats at once, not the whole output."""
        beat = 0
        for scored in detector.score_batches(recordings, threshold):  # one call of the model per batch
            summaries.extend(Scored.of(s) for s in scored)
            columns = scored_columns(scored)
            n = len(columns["x"])
            if recordings.extra is not None and len(recordings.extra.columns):
                extra = recordings.extra.iloc[beat : beat + n]
                columns.update({str(name): extra[name].to_numpy() for name in extra.columns})
            beat += n
            bar.advance(task, len(scored))
            yield columns

    with progress() as bar:
        task = bar.add_task("scoring", total=len(recordings))
        try:
            write_csv(parts(), target)
        except OutputError as exc:
            raise fail(str(exc)) from None
    # With the CSV on standard output, the summary goes to standard error.
    out = console if target is not None else err_console
    summarise(summaries, out)
    out.print(f"-> {escape(str(target or 'standard output'))}", highlight=False)
    bad = [s for s in summaries if mostly_errors(s.errors, s.n_beats)]
    warn_mostly_errors(len(bad), [s.id for s in bad[:NAMED_MOSTLY_ERRORS]], {s.unit for s in bad})


@dataclass(frozen=True)
class Scored:
    """What the summary after scoring says of a recording."""

    id: str
    n_beats: int
    n_episodes: int
    anomalous: int
    errors: int
    unit: str

    @classmethod
    def of(cls, scored: ScoredRecording) -> Scored:
        from cardiospike.summary import episodes_of

        rec = scored.recording
        return cls(
            rec.id, len(rec), len(episodes_of(scored)), int(scored.is_anomaly.sum()), int(scored.error.sum()), rec.unit
        )


def summarise(scored: Sequence[Scored], out: Console) -> None:
    """A row per recording (beats, episodes, anomalous share, measurement errors), or one line of totals."""
    n_beats = sum(s.n_beats for s in scored)
    anomalous = sum(s.anomalous for s in scored)
    errors = sum(s.errors for s in scored)
    if len(scored) <= MAX_TABLE_ROWS:
        table = Table(title=f"Scored {len(scored)} recording(s)")
        for col in ("id", "beats", "episodes", "anomalous", "errors"):
            table.add_column(col, justify="left" if col == "id" else "right")
        for s in scored:
            share = s.anomalous / max(s.n_beats, 1)
            table.add_row(escape(s.id), str(s.n_beats), str(s.n_episodes), f"{share:.1%}", str(s.errors))
        out.print(table)
    episodes = sum(s.n_episodes for s in scored) if len(scored) > MAX_TABLE_ROWS else None
    shown = "" if episodes is None else f", {counted(episodes, 'episode')}"
    out.print(
        f"Scored {len(scored)} recording(s), {counted(n_beats, 'beat')}{shown}: {anomalous} anomalous "
        f"({anomalous / max(n_beats, 1):.1%}), {counted(errors, 'measurement error')}",
        highlight=False,
    )
