"""``cardiospike predict`` on datasets: Parquet in and out, local or ``s3://``, scored here or on a Dask cluster.

``predict`` hands its work here where the input is a folder or a URL, the output is Parquet or a URL, or an engine,
a scheduler or ``--resume`` is asked for; CSV files scored here into CSV stay with ``predict`` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import Progress

from cardiospike.cli.console import console, counted, err_console, fail, progress, warn_mostly_errors
from cardiospike.engines import ENGINES
from cardiospike.remote import is_url

if TYPE_CHECKING:
    from cardiospike.engines.partitions import PartitionResult
    from cardiospike.engines.run import Summary
    from cardiospike.recording import Reading


def _check_engine(value: str | None) -> str | None:
    if value is not None and value not in ENGINES:
        raise typer.BadParameter(f"expected one of {', '.join(ENGINES)}")
    return value


EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        callback=_check_engine,
        help="Where Parquet partitions are scored: local (here, one after another) or dask (on a Dask cluster; needs "
        "the dask extra). Default: local, or dask with --scheduler.",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Address of a running Dask scheduler (tcp://host:8786); implies --engine dask. Without it, dask starts "
        "a local cluster of one worker process per core.",
    ),
]
ResumeOption = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Complete an output folder: keep the partitions already scored with this model and these options "
        "from the same input (compared by content), score the others.",
    ),
]


def wants_engine(input: str, output: str, engine: str | None, scheduler: str | None, resume: bool) -> bool:
    """Whether ``predict`` scores through an engine (Parquet out, or a dataset in) rather than into CSV.

    An output ending with ``/`` names a folder, and a folder of scores is a Parquet dataset: a file's scores go to
    ``FOLDER/NAME.parquet`` there, never to a file named as the folder.
    """
    from cardiospike.data.formats.parquet import SUFFIXES  # the extensions of Parquet files, out as in
    from cardiospike.engines.datasets import names_folder

    return (
        engine == "dask"
        or scheduler is not None
        or resume
        or is_url(input)
        or is_url(output)
        or Path(input).is_dir()
        or names_folder(output)
        or output.lower().endswith(SUFFIXES)
    )


def predict_dataset(
    input: str,
    output: str,
    *,
    model: str | None,
    how: Reading,
    threshold: float | None,
    engine: str | None,
    scheduler: str | None,
    resume: bool,
    force: bool,
    jobs: int | None,
) -> None:
    """Score a dataset (or a file) into Parquet with an engine; print the totals and where they went."""
    from cardiospike.artifact import ArtifactError
    from cardiospike.engines.datasets import DatasetError
    from cardiospike.engines.run import score_dataset
    from cardiospike.remote import RemoteError

    if scheduler is not None and engine == "local":
        raise fail("--scheduler is the address of a Dask cluster: it goes with --engine dask, not --engine local")
    with progress() as bar:
        try:
            summary = score_dataset(
                input,
                output,
                model=model,
                threshold=threshold,
                reading=how,
                engine="dask" if engine == "dask" or scheduler is not None else "local",
                scheduler=scheduler,
                resume=resume,
                force=force,
                jobs=jobs,
                progress=_Bar(bar),
            )
        except (DatasetError, ArtifactError, RemoteError) as exc:
            raise fail(str(exc)) from None
    _print_summary(summary, output)


class _Bar:
    """The run's notes on standard error, and a bar of the partitions done."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: object = None

    def note(self, message: str) -> None:
        self.bar.console.print(escape(message), highlight=False, soft_wrap=True)

    def start(self, partitions: int) -> None:
        self.task = self.bar.add_task("scoring partitions", total=partitions)

    def done(self, result: PartitionResult) -> None:
        self.bar.advance(self.task, 1)  # type: ignore[arg-type]


def _print_summary(summary: Summary, output: str) -> None:
    skipped = f" ({summary.skipped} already complete, kept)" if summary.skipped else ""
    share = summary.anomalous / max(summary.beats, 1)
    console.print(
        f"Scored {summary.scored} of {summary.partitions} partition(s){skipped}: {summary.recordings} recording(s), "
        f"{counted(summary.beats, 'beat')}, {counted(summary.episodes, 'episode')}: {summary.anomalous} anomalous "
        f"({share:.1%}), {counted(summary.errors, 'measurement error')}",
        highlight=False,
    )
    console.print(f"-> {escape(output)}", highlight=False)
    if summary.unit_notes:
        name, note = summary.unit_notes[0]
        more = f" (and {len(summary.unit_notes) - 1} other partition(s))" if len(summary.unit_notes) > 1 else ""
        err_console.print(f"{escape(name)}: {escape(note)}{more}", highlight=False, soft_wrap=True)
    warn_mostly_errors(summary.n_mostly_errors, summary.mostly_errors, summary.mostly_errors_hint)
