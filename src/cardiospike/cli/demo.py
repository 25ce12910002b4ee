"""``cardiospike demo``: score a synthetic recording and print its episodes (no data needed)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cardiospike.cli.console import console, counted
from cardiospike.cli.options import ModelOption, open_detector
from cardiospike.recording import MAX_RECORDING_BEATS


def demo(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic recording.")] = 7,
    n_beats: Annotated[
        int,
        typer.Option(
            min=1, max=MAX_RECORDING_BEATS, help=f"Beats in the synthetic recording (1 to {MAX_RECORDING_BEATS:,})."
        ),
    ] = 1200,
    model: ModelOption = None,
) -> None:
    """Score a synthetic demo recording with the default model and print its anomaly episodes."""
    from cardiospike.data.synthetic import simulate_recording
    from cardiospike.summary import episodes_of

    recording = simulate_recording(n_beats, seed=seed)
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
