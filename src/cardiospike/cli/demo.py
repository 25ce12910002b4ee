"""``cardiospike demo``: score a synthetic recording and print its episodes, or write it as an input file to try
the other commands on (no data needed)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cardiospike.cli.console import console, counted, err_console, fail
from cardiospike.cli.options import ModelOption, open_detector
from cardiospike.recording import MAX_RECORDING_BEATS

if TYPE_CHECKING:
    from cardiospike.recording import Recording

# The defaults are data.synthetic's DEMO_SEED and DEMO_BEATS, written out: importing that module here would load
# numpy for every `cardiospike --help`. The shipped sample file is `demo -o` with them (a test compares).


def demo(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic recording.")] = 7,
    n_beats: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_RECORDING_BEATS, help=f"Beats in the synthetic recording (1 to {MAX_RECORDING_BEATS:,})."
        ),
    ] = 1200,
    model: ModelOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the recording to this file (- for standard output) as a competition CSV, id,time,x,y (y: "
            "the simulation's labels), instead of scoring it: an input to try predict, report and evaluate on.",
        ),
    ] = None,
) -> None:
    """Score a synthetic demo recording with the default model and print its anomaly episodes, or write it (-o)."""
    from cardiospike.data.synthetic import simulate_recording
    from cardiospike.summary import episodes_of

    recording = simulate_recording(n_beats, seed=seed)
    if output is not None:
        return write_recording(recording, output, seed)
    detector = open_detector(model)
    scored = detector.score(recording)
    episodes = episodes_of(scored)
    title = f"Synthetic demo recording (seed {seed}, {counted(n_beats, 'beat')}): {counted(len(episodes), 'episode')}"
    table = Table(title=title)
    for col in ("start beat", "end beat", "start (s)", "end (s)", "beats", "peak probability"):
        table.add_column(col, justify="right")
    for e in episodes:
        table.add_row(
            str(e.start), str(e.end), f"{e.start_ms / 1000:.1f}", f"{e.end_ms / 1000:.1f}", str(e.n_beats),
            f"{e.max_proba:.2f}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"Model {detector.model_version}, threshold {detector.threshold:.3f}; the simulation placed "
        f"{counted(len(episodes_of(recording)), 'episode')}; {counted(int(scored.error.sum()), 'measurement error')}."
    )


def write_recording(recording: Recording, output: str, seed: int) -> None:
    """Write the demo recording to ``output`` (``-``: standard output) as the competition CSV, labels included.

    The labels go in as ``y`` so that ``cardiospike evaluate`` works on the file; ``predict`` reads them and writes
    its own ``y``, the predicted label, in their place.
    """
    from cardiospike.data.io import recordings_to_frame
    from cardiospike.data.output import OutputError, output_target, write_csv

    # Writing would make the missing folders; a mistyped folder is far likelier than a wish for new ones. (Said as
    # predict says it.)
    if output != "-" and not Path(output).absolute().parent.is_dir():
        raise fail(f"--output: folder {Path(output).parent} does not exist")
    try:
        target = output_target(output)
    except OutputError as exc:
        raise fail(str(exc)) from None
    try:
        write_csv(recordings_to_frame([recording]), target)
    except OutputError as exc:
        raise fail(str(exc)) from None
    beats = counted(len(recording), "beat")
    what = f"synthetic demo recording {recording.id!r} (seed {seed}, {beats}; y: its simulated labels)"
    if target is None:  # standard output is the CSV: the note goes to standard error
        err_console.print(f"Wrote the {what} to standard output", highlight=False, soft_wrap=True)
        return
    shown = _shown(target)
    arg = shlex.quote(shown)  # the next commands, ready to paste
    console.print(
        f"Wrote the {escape(what)} to {escape(shown)}\nNext: cardiospike predict {escape(arg)} -o scored.csv, "
        f"cardiospike report {escape(arg)} -o report.html, cardiospike evaluate {escape(arg)}",
        highlight=False,
        soft_wrap=True,
    )


def _shown(target: Path) -> str:
    """``target`` relative to the working folder where it lies under it (the next commands are typed there)."""
    try:
        return str(target.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(target)
