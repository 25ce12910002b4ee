"""Options and inputs several commands share: the model, how to read the input, and loading them.

Loading turns the package's errors into one-line exits; the package itself is imported only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from cardiospike.cli.console import err_console, fail, warn
from cardiospike.recording import FILE_FORMATS, FORMATS, UNITS, Reading

if TYPE_CHECKING:
    from rich.progress import TaskID

    from cardiospike.data.formats import Recordings
    from cardiospike.detector import Detector

# A string, not a Path: a Path would turn s3://bucket/x into s3:/bucket/x.
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model artifact folder or s3:// URL (default: the model shipped with the package).",
    ),
]


def _one_of(choices: tuple[str, ...]) -> object:
    def check(value: str) -> str:
        if value not in choices:
            raise typer.BadParameter(f"expected one of {', '.join(choices)}")
        return value

    return check


FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        callback=_one_of((*FORMATS, *FILE_FORMATS)),
        help=f"Input format: {', '.join((*FORMATS, *FILE_FORMATS))} (auto: sniffed).",
    ),
]
IgnoreTimeOption = Annotated[
    bool, typer.Option("--ignore-time", help="Ignore the input's times; time beats by the cumulative sum of RR.")
]
UnitOption = Annotated[
    str,
    typer.Option(
        "--unit",
        callback=_one_of(UNITS),
        help="Unit of RR: ms, s, or auto (a unit the header names, else seconds where the median RR is below 10).",
    ),
]
RRColumnOption = Annotated[
    str | None, typer.Option("--rr-column", help="Column holding RR, by name or number from 1 (default: by its name).")
]
IdColumnOption = Annotated[
    str | None,
    typer.Option(
        "--id-column",
        help="Column holding recording ids, by name or number from 1 (default: by its name: id, patient, file ...).",
    ),
]
TimeColumnOption = Annotated[
    str | None,
    typer.Option("--time-column", help="Column holding beat times, by name or number from 1 (default: by its name)."),
]


def _check_sampling_rate(value: float | None) -> float | None:
    if value is not None and not 0.0 < value < float("inf"):  # NaN fails both comparisons too
        raise typer.BadParameter("must be a positive number of Hz")
    return value


SamplingRateOption = Annotated[
    float | None,
    typer.Option(
        "--sampling-rate",
        metavar="HZ",
        callback=_check_sampling_rate,
        help="Read a CSV, text or .npy file as ECG samples at this rate: heart beats are detected, one row each "
        "(EDF and WFDB records give their own).",
    ),
]
EcgChannelOption = Annotated[
    str | None,
    typer.Option(
        "--ecg-channel",
        metavar="NAME|NUMBER",
        help="The ECG channel of a record of several, by name or number from 1 (default: the first named as an ECG "
        "lead).",
    ),
]


def _check_threshold(value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:  # NaN fails both comparisons too
        raise typer.BadParameter("must be a number from 0 to 1")
    return value


ThresholdOption = Annotated[
    float | None,
    typer.Option(callback=_check_threshold, help="Decision threshold from 0 to 1 (default: the model's)."),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Where the output is a symbolic link, replace the file it points to.")
]
JobsOption = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        envvar="CARDIOSPIKE_JOBS",
        min=0,
        help="Threads that score at once: many recordings, or the pieces of a long one (default, or 0: every core "
        "this process may use). The same scores whatever the number.",
        show_default=False,
    ),
]


def read_input(path: Path, how: Reading, *, keep_columns: bool = False) -> Recordings:
    """The recordings of an input file, or an exit with the reader's message; says how RR were read if not ms."""
    from cardiospike.cli.console import progress
    from cardiospike.data.errors import render_hint
    from cardiospike.data.io import RecordingFormatError, read_recordings

    # A bar only once an ECG reader reports (detecting beats in a long record takes seconds); RR files show none.
    bar = progress()
    task: list[TaskID] = []

    def detecting(done: int, total: int) -> None:
        if not task:
            bar.start()
            task.append(bar.add_task("detecting beats (samples)", total=total))
        bar.update(task[0], completed=done)

    try:
        recordings = read_recordings(path, **how.kwargs(), keep_columns=keep_columns, progress=detecting)
    except RecordingFormatError as exc:
        raise fail(str(exc.shown_on("cli"))) from None
    finally:
        if task:
            bar.stop()
    # On standard error: standard output may be the scored CSV (-o -).
    if recordings.unit_note:
        note = render_hint(recordings.unit_note, "cli")
        err_console.print(f"{escape(str(path))}: {escape(note)}", highlight=False, soft_wrap=True)
    for warning in recordings.warnings:
        warn(f"{path}: {render_hint(warning, 'cli')}")
    return recordings


def open_detector(model: str | Path | None, jobs: int | None = 1) -> Detector:
    """The detector of a model artifact (the shipped one for None) scoring on ``jobs`` threads (None: every core),
    or an exit saying why it cannot be loaded."""
    from cardiospike.artifact import ArtifactError
    from cardiospike.detector import load_detector

    try:
        return load_detector(model, jobs=jobs)
    except ArtifactError as exc:
        raise fail(str(exc)) from None
