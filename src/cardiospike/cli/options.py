"""Options and inputs several commands share: the model, the input's format and times, and loading them.

Loading turns the package's errors into one-line exits; the package itself is imported only when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cardiospike.cli.console import fail
from cardiospike.recording import FORMATS

if TYPE_CHECKING:
    from cardiospike.detector import Detector
    from cardiospike.recording import Recording

# A string, not a Path: a Path would turn s3://bucket/x into s3:/bucket/x.
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model artifact folder or s3:// URL (default: the model shipped with the package).",
    ),
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help=f"Input format: {', '.join(FORMATS)}.")]
IgnoreTimeOption = Annotated[
    bool, typer.Option("--ignore-time", help="Ignore the input's times; time beats by the cumulative sum of RR.")
]


def read_input(path: Path, fmt: str, ignore_time: bool = False) -> list[Recording]:
    """The recordings of an input file, or an exit with the reader's message."""
    from cardiospike.data.io import RecordingFormatError, read_recordings

    try:
        return read_recordings(path, fmt=fmt, use_time=not ignore_time)  # type: ignore[arg-type]
    except RecordingFormatError as exc:
        raise fail(str(exc)) from None


def open_detector(model: str | Path | None) -> Detector:
    """The detector of a model artifact (the shipped one for None), or an exit saying why it cannot be loaded."""
    from cardiospike.artifact import ArtifactError
    from cardiospike.detector import load_detector

    try:
        return load_detector(model)
    except ArtifactError as exc:
        raise fail(str(exc)) from None
