"""``cardiospike predict``: score recordings into one row per input beat (CSV, TSV, JSON, Parquet), written
atomically."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, counted, err_console, fail, progress
from cardiospike.cli.datasets import EngineOption, ResumeOption, SchedulerOption, predict_dataset, wants_engine
from cardiospike.cli.options import (
    EcgChannelOption,
    ForceOption,
    FormatOption,
    IdColumnOption,
    IgnoreTimeOption,
    JobsOption,
    ModelOption,
    RRColumnOption,
    SamplingRateOption,
    ThresholdOption,
    TimeColumnOption,
    UnitOption,
    open_detector,
    read_input,
)
from cardiospike.recording import Reading

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
            help="Scores to write, in the format the extension names: NAME.csv, NAME.tsv, NAME.json (an object per "
            "recording), NAME.ndjson or NAME.jsonl (one per line), NAME.parquet or NAME.pq; - for CSV on standard "
            "output; for a dataset, a folder or an s3:// URL (Parquet). The file's folder must exist. A name ending "
            "with / is a folder: a file's scores go to FOLDER/NAME.parquet.",
        ),
    ],
    model: ModelOption = None,
    fmt: FormatOption = "auto",
    unit: UnitOption = "auto",
    rr_column: RRColumnOption = None,
    id_column: IdColumnOption = None,
    time_column: TimeColumnOption = None,
    ignore_time: IgnoreTimeOption = False,
    sampling_rate: SamplingRateOption = None,
    ecg_channel: EcgChannelOption = None,
    threshold: ThresholdOption = None,
    force: ForceOption = False,
    jobs: JobsOption = None,
    engine: EngineOption = None,
    scheduler: SchedulerOption = None,
    resume: ResumeOption = False,
) -> None:
    """Score recordings: one row per input beat, in input order, with id,time,x,y,anomaly_proba,error (and the
    reference labels as label, after y, where the input is labelled) and the input's other columns."""
    from cardiospike.data.output import OutputError, output_format, output_target
    from cardiospike.engines.datasets import names_folder
    from cardiospike.remote import is_url

    how = Reading.of_options(fmt, unit, rr_column, time_column, id_column, ignore_time, sampling_rate, ecg_channel)
    target: Path | None = None
    out_format = "csv"
    # An output ending with / names a folder (a Parquet dataset, made by the engine), not the file of that name.
    if not is_url(input) and not is_url(output) and not Path(input).is_dir() and not names_folder(output):
        # A file is scored into a file: one that may be written (not the input, a folder or a device), in a folder
        # that exists, in the format its name says; all checked before any work, so that a refused output leaves
        # nothing written. (A dataset's output folder is made.)
        try:
            target = output_target(output, [input], force=force)
            out_format = output_format(output)
        except OutputError as exc:
            raise output_failure(exc) from None
    # Parquet out, or a dataset in: an engine scores it (cli/datasets.py).
    if out_format == "parquet" or wants_engine(input, output, engine, scheduler, resume):
        return predict_dataset(
            input, output, model=model, how=how, threshold=threshold, engine=engine, scheduler=scheduler,
            resume=resume, force=force, jobs=jobs,
        )  # fmt: skip

    from cardiospike.data.output import DELIMITERS, integer_ids, write_csv, write_json
    from cardiospike.detector import is_labelled, scored_columns

    recordings = read_input(Path(input), how, keep_columns=True)
    detector = open_detector(model, jobs)
    summaries: list[Scored] = []
    labelled = is_labelled(recordings)  # once for every batch: each has the same columns

    def parts() -> Iterator[tuple[list[ScoredRecording], dict[str, Any]]]:
        """The scored beats batch by batch: memory holds one batch of scored beats at once, not the whole output."""
        beat = 0
        for scored in detector.score_batches(recordings, threshold, lambda beats: bar.advance(task, beats)):
            summaries.extend(Scored.of(s) for s in scored)
            columns = scored_columns(scored, labelled)
            n = len(columns["x"])
            if recordings.extra is not None and len(recordings.extra.columns):
                extra = recordings.extra.iloc[beat : beat + n]
                columns.update({str(name): extra[name].to_numpy() for name in extra.columns})
            beat += n
            yield scored, columns

    def json_parts() -> Iterator[tuple[list[str] | list[int], list[int], dict[str, Any]]]:
        # Integer ids (1, 2, 3) are written as numbers, as the input had them, where every id is one.
        numbers = integer_ids([r.id for r in recordings])
        done = 0
        for scored, columns in parts():
            ids = [s.recording.id for s in scored] if numbers is None else numbers[done : done + len(scored)]
            done += len(scored)
            yield ids, [len(s.recording) for s in scored], {k: v for k, v in columns.items() if k != "id"}

    with progress() as bar:
        task = bar.add_task("scoring beats", total=sum(len(r) for r in recordings))
        try:
            if out_format in DELIMITERS:
                write_csv((columns for _, columns in parts()), target, delimiter=DELIMITERS[out_format])
            else:
                write_json(json_parts(), target, lines=out_format == "ndjson")
        except OutputError as exc:
            raise fail(str(exc)) from None
    # With the scores on standard output, the summary goes to standard error.
    out = console if target is not None else err_console
    summarise(summaries, out)
    out.print(f"-> {escape(str(target or 'standard output'))}", highlight=False)


def output_failure(exc: Exception) -> typer.Exit:
    """The exit for an output that cannot be written: a fault of the path as given names the option that gave it."""
    from cardiospike.data.output import OutputPathError

    return fail(f"--output: {exc}" if isinstance(exc, OutputPathError) else str(exc))


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
