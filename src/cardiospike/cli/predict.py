"""``cardiospike predict``: score recordings into one CSV row per input beat, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cardiospike.cli.console import console, err_console, fail, progress
from cardiospike.cli.options import FormatOption, IgnoreTimeOption, ModelOption, open_detector, read_input


def _check_threshold(value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:  # NaN fails both comparisons too
        raise typer.BadParameter("must be a number from 0 to 1")
    return value


ThresholdOption = Annotated[
    float | None,
    typer.Option(callback=_check_threshold, help="Decision threshold from 0 to 1 (default: the model's)."),
]


def predict(
    input: Annotated[Path, typer.Argument(help="Recordings to score (CSV, text or JSON).")],
    output: Annotated[str, typer.Option("--output", "-o", help="Scored CSV to write; - for standard output.")],
    model: ModelOption = None,
    fmt: FormatOption = "auto",
    ignore_time: IgnoreTimeOption = False,
    threshold: ThresholdOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Where the output is a symbolic link, replace the file it points to.")
    ] = False,
) -> None:
    """Score recordings: one row per input beat, in input order, with id,time,x,y,anomaly_proba,error."""
    import pandas as pd

    from cardiospike.data.output import OutputError, output_target, write_csv
    from cardiospike.detector import batches_of

    try:
        target = output_target(output, [input], force=force)
    except OutputError as exc:
        raise fail(str(exc)) from None
    recordings = read_input(input, fmt, ignore_time)
    detector = open_detector(model)
    with progress() as bar:
        task = bar.add_task("scoring", total=len(recordings))
        frames = []
        for batch in batches_of(recordings):  # one call of the model per batch, however many recordings it holds
            frames += [scored.to_frame() for scored in detector.score_many(batch, threshold)]
            bar.advance(task, len(batch))
    scored = pd.concat(frames, ignore_index=True)
    try:
        write_csv(scored, target)
    except OutputError as exc:
        raise fail(str(exc)) from None
    # With the CSV on standard output, the summary goes to standard error.
    (console if target is not None else err_console).print(
        f"Scored {len(recordings)} recording(s), {len(scored)} beats: {int(scored['y'].sum())} anomalous, "
        f"{int(scored['error'].sum())} measurement errors -> {escape(str(target or 'standard output'))}",
        highlight=False,
    )
