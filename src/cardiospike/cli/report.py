"""``cardiospike report``: score recordings into one self-contained HTML report, written atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cardiospike.cli.console import console, counted, err_console, fail, progress
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


def report(
    input: Annotated[Path, typer.Argument(help="Recordings to report on (any input format).")],
    output: Annotated[str, typer.Option("--output", "-o", help="HTML report to write; - for standard output.")],
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
) -> None:
    """Write an HTML report: per recording, the RR chart with its episodes, the episodes, HRV and measurement errors.

    One file that opens offline in any browser (Plotly.js is inside it) and prints as clean pages. Of an ECG record,
    also the ECG around each of the first 20 episodes, read again from the record.
    """
    from cardiospike.cli.predict import output_failure
    from cardiospike.data.output import OutputError, output_target, write_text
    from cardiospike.report import ModelInfo, ReportError, SourceInfo, render_report
    from cardiospike.summary import episodes_of

    try:
        target = output_target(output, [input], force=force)
    except OutputError as exc:
        raise output_failure(exc) from None
    recordings = read_input(
        input,
        Reading.of_options(fmt, unit, rr_column, time_column, id_column, ignore_time, sampling_rate, ecg_channel),
    )
    source = SourceInfo.of_file(input)
    detector = open_detector(model, jobs)
    with progress() as bar:
        task = bar.add_task("scoring beats", total=sum(len(r) for r in recordings))
        scored = detector.score_many(recordings, threshold, lambda beats: bar.advance(task, beats))
    try:
        write_text(render_report(scored, model=ModelInfo.of(detector), source=source, ecg=recordings.ecg), target)
    except (OutputError, ReportError) as exc:
        raise fail(str(exc)) from None
    n_beats = sum(len(s.recording) for s in scored)
    n_episodes = sum(len(episodes_of(s)) for s in scored)
    # With the report on standard output, the summary goes to standard error.
    (console if target is not None else err_console).print(
        f"Report of {len(scored)} recording(s), {counted(n_beats, 'beat')}, {counted(n_episodes, 'episode')} "
        f"-> {escape(str(target or 'standard output'))}",
        highlight=False,
    )
