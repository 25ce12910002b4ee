"""The ``cardiospike`` command line: thin wrappers around the package's functions."""

from __future__ import annotations

import json
import shlex
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cardiospike.artifact import ArtifactError, package_version
from cardiospike.data.io import FORMATS, RecordingFormatError, read_recordings
from cardiospike.data.output import OutputError, output_target, write_csv
from cardiospike.data.synthetic import simulate_recording
from cardiospike.detector import load_detector
from cardiospike.search.cli import search_app
from cardiospike.summary import episodes_of
from cardiospike.terminal import console, err_console, fail

app = typer.Typer(
    help="Find anomaly episodes, beat by beat, in heart RR-interval recordings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

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


def _check_threshold(value: float | None) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:  # NaN fails both comparisons too
        raise typer.BadParameter("must be a number from 0 to 1")
    return value


ThresholdOption = Annotated[
    float | None,
    typer.Option(callback=_check_threshold, help="Decision threshold from 0 to 1 (default: the model's)."),
]


def _stop_on_sigterm(signum: int, _: object) -> None:
    # As Ctrl-C does: unwinding runs the clean-up (a partial output file is removed), then exit 128 + 15.
    raise SystemExit(128 + signum)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cardiospike {package_version()}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Find anomaly episodes, beat by beat, in heart RR-interval recordings."""
    if threading.current_thread() is threading.main_thread():  # signal handlers can only be set there
        signal.signal(signal.SIGTERM, _stop_on_sigterm)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def _load(path: Path, fmt: str, ignore_time: bool = False) -> list[Any]:
    try:
        return read_recordings(path, fmt=fmt, use_time=not ignore_time)  # type: ignore[arg-type]
    except RecordingFormatError as exc:
        raise fail(str(exc)) from None


def _detector(model: str | Path | None) -> Any:
    try:
        return load_detector(model)
    except ArtifactError as exc:
        raise fail(str(exc)) from None


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def train(
    overrides: Annotated[
        list[str] | None,
        typer.Argument(
            help="Hydra overrides of the config in cardiospike/conf, e.g. cv.outer=3 model.lgbm.num_leaves=15."
        ),
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", "-d", help="Labelled recordings (sets data.path).")] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Artifact folder or s3:// URL to write (sets out).")
    ] = None,
    cfg: Annotated[str | None, typer.Option("--cfg", help="Print the resolved configuration ('job') and exit.")] = None,
) -> None:
    """Train the beat detector with nested cross-validation and write a model artifact."""
    try:
        from cardiospike.training.config import ConfigError
        from cardiospike.training.run import TrainingRun
    except ImportError as exc:
        raise fail(
            f"training needs the 'train' extra ({exc.name} is missing): pip install 'cardiospike[train]'"
        ) from None

    given = [*(overrides or [])]
    given += [f"data.path={data}"] if data is not None else []
    given += [f"out={out}"] if out is not None else []
    try:
        run = TrainingRun.compose(given)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if cfg is not None:
        if cfg != "job":
            raise fail(f"--cfg takes 'job', not {cfg!r}")
        from omegaconf import OmegaConf

        typer.echo(OmegaConf.to_yaml(run.cfg))
        return
    # Rebuilt from the arguments, so the record reads the same whatever shell or wrapper started the run.
    command = shlex.join(
        ["cardiospike", "train"]
        + (["--data", str(data)] if data is not None else [])
        + (["--out", str(out)] if out is not None else [])
        + list(overrides or [])
    )
    try:
        with _progress() as progress:
            task = progress.add_task("nested cross-validation", total=run.n_steps)
            trained = run.execute(command, step=lambda what: progress.update(task, advance=1, description=what))
    except (RecordingFormatError, ValueError, ArtifactError) as exc:  # bad data; an s3:// folder that cannot be written
        raise fail(str(exc)) from None
    result = trained.result
    _print_cv(result.report)
    post, rounds = result.postprocess, result.fitted.tuning.rounds
    console.print(
        f"Model written to [bold]{escape(str(trained.location))}[/]: {result.report['models']}, rounds {rounds}, "
        f"threshold {post.threshold:.2f}, smoothing ±{post.smooth}, gaps filled up to {post.max_gap}, runs of at least "
        f"{post.min_run} beats"
    )


def _print_cv(report: dict[str, Any]) -> None:
    o = report["outer"]
    table = Table(title="Nested cross-validation (outer folds)")
    for col in ("fold", "recordings", "trees", "threshold", "F1", "precision", "recall", "PR-AUC"):
        table.add_column(col, justify="right")
    for f in report["folds"]:
        table.add_row(
            str(f["fold"]), str(f["n_recordings"]), str(f["n_estimators"]), f"{f['threshold']:.3f}",
            f"{f['f1']:.4f}", f"{f['precision']:.4f}", f"{f['recall']:.4f}", f"{f['pr_auc']:.4f}",
        )  # fmt: skip
    table.add_row(
        "pooled", "", "", "", f"{o['f1']:.4f}", f"{o['precision']:.4f}", f"{o['recall']:.4f}", f"{o['pr_auc']:.4f}",
        style="bold",
    )  # fmt: skip
    console.print(table)
    r = report["per_recording_f1"]
    worst = escape(", ".join(f"{w['id']} ({w['f1']:.2f})" for w in r["worst"]))
    console.print(
        f"Per-recording F1: mean {r['mean']:.3f}, quartiles {r['q25']:.3f} / {r['median']:.3f} / {r['q75']:.3f}; "
        f"worst: {worst}"
    )


@app.command()
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

    try:
        target = output_target(output, [input], force=force)
    except OutputError as exc:
        raise fail(str(exc)) from None
    recordings = _load(input, fmt, ignore_time)
    detector = _detector(model)
    with _progress() as progress:
        task = progress.add_task("scoring", total=len(recordings))
        frames = []
        for rec in recordings:
            frames.append(detector.score(rec, threshold).to_frame())
            progress.advance(task)
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


@app.command()
def evaluate(
    labelled: Annotated[Path, typer.Argument(help="Labelled recordings (with a 'y' column).")],
    model: ModelOption = None,
    fmt: FormatOption = "auto",
    ignore_time: IgnoreTimeOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Precision, recall and F1 of a model on labelled recordings, overall and per recording."""
    from cardiospike.training.evaluate import evaluate_detector

    recordings = _load(labelled, fmt, ignore_time)
    detector = _detector(model)
    try:
        evaluation = evaluate_detector(detector, recordings)
    except ValueError as exc:
        raise fail(f"{labelled}: {exc}") from None
    if as_json:
        typer.echo(json.dumps(evaluation.to_dict(), indent=2, default=str))
        return
    table = Table(title=f"Per recording (model {detector.model_version}, threshold {detector.threshold:.3f})")
    for col in ("id", "beats", "precision", "recall", "F1"):
        table.add_column(col, justify="right")
    for row in evaluation.per_recording.itertuples():
        table.add_row(
            escape(str(row.id)), str(row.n_beats), f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}"
        )
    console.print(table)
    overall = evaluation.overall
    console.print(
        f"[bold]Overall[/]: F1 {overall['f1']:.4f}, precision {overall['precision']:.4f}, "
        f"recall {overall['recall']:.4f}, PR-AUC {overall['pr_auc']:.4f} over {overall['n_beats']} beats"
    )


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic recording.")] = 7,
    n_beats: Annotated[int, typer.Option(help="Beats in the synthetic recording.")] = 1200,
    model: ModelOption = None,
) -> None:
    """Score a synthetic demo recording with the default model and print its anomaly episodes."""
    recording = simulate_recording(n_beats, seed=seed)
    detector = _detector(model)
    scored = detector.score(recording)
    episodes = episodes_of(scored)
    table = Table(title=f"Synthetic demo recording (seed {seed}, {n_beats} beats): {len(episodes)} episodes")
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
        f"{len(episodes_of(recording))} episodes; "
        f"{int(scored.error.sum())} beats are measurement errors."
    )


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on [default: CARDIOSPIKE_HOST or 127.0.0.1].")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: CARDIOSPIKE_PORT or 8000].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [default: CARDIOSPIKE_WORKERS or 1].")] = None,
    model: ModelOption = None,
) -> None:
    """Serve the REST API (docs at /docs) and the web app (at /); options override CARDIOSPIKE_* variables and .env."""
    from pydantic import ValidationError

    from cardiospike.serving.server import run
    from cardiospike.serving.settings import Settings

    overrides = {"host": host, "port": port, "workers": workers, "model": model}
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        raise fail(f"invalid settings: {exc}") from None
    _detector(settings.model)  # a wrong model path stops here, with the reason, before uvicorn starts
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"Serving the web app on {url}/ and the API (docs at {url}/docs), {settings.workers} worker(s)")
    run(settings)


app.add_typer(search_app, name="search")


if __name__ == "__main__":  # pragma: no cover
    app()
