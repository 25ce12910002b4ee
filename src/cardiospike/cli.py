"""The ``cardiospike`` command line: thin wrappers around the package's functions."""

from __future__ import annotations

import hashlib
import json
import shlex
import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cardiospike.artifact import ArtifactError, package_version
from cardiospike.data.io import FORMATS, RecordingFormatError, read_recordings
from cardiospike.data.output import OutputError, output_target, write_csv
from cardiospike.data.synthetic import simulate_recording
from cardiospike.detector import load_detector
from cardiospike.remote import is_url
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
    from cardiospike.artifact import save_artifact

    try:
        from cardiospike.training.config import ConfigError, compose_config, to_container, train_config
    except ImportError as exc:
        raise fail(
            f"training needs the 'train' extra ({exc.name} is missing): pip install 'cardiospike[train]'"
        ) from None
    from cardiospike.training.cv import count_steps
    from cardiospike.training.cv import train as train_model

    given = [*(overrides or [])]
    given += [f"data.path={data}"] if data is not None else []
    given += [f"out={out}"] if out is not None else []
    try:
        composed = compose_config(given)
        config = train_config(composed)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    if cfg is not None:
        if cfg != "job":
            raise fail(f"--cfg takes 'job', not {cfg!r}")
        from omegaconf import OmegaConf

        typer.echo(OmegaConf.to_yaml(composed))
        return
    data_path = Path(composed.data.path)
    out_dir: str | Path = str(composed.out) if is_url(str(composed.out)) else Path(composed.out)
    recordings = _load(data_path, "csv", bool(composed.data.ignore_time))
    if any(r.labels is None for r in recordings):
        raise fail(f"{data_path}: training needs labels: add a 'y' column (0/1 per beat)")
    try:
        with _progress() as progress:
            task = progress.add_task("nested cross-validation", total=count_steps(config.cv))
            result = train_model(
                recordings, config, step=lambda what: progress.update(task, advance=1, description=what)
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    training = {
        # Rebuilt from the arguments, so the record reads the same whatever shell or wrapper started the run.
        "command": shlex.join(
            ["cardiospike", "train"]
            + (["--data", str(data)] if data is not None else [])
            + (["--out", str(out)] if out is not None else [])
            + list(overrides or [])
        ),
        "config": to_container(composed),
        "data": {
            "file": data_path.name,
            "sha256": hashlib.sha256(data_path.read_bytes()).hexdigest(),
            "n_recordings": len(recordings),
            "n_beats": int(sum(len(r) for r in recordings)),
        },
    }
    try:
        save_artifact(result.artifact(config.features, training), out_dir)
    except ArtifactError as exc:  # an s3:// folder that cannot be written
        raise fail(str(exc)) from None
    _print_cv(result.report)
    post, rounds = result.postprocess, result.fitted.tuning.rounds
    console.print(
        f"Model written to [bold]{escape(str(out_dir))}[/]: {result.report['models']}, rounds {rounds}, threshold "
        f"{post.threshold:.2f}, smoothing ±{post.smooth}, gaps filled up to {post.max_gap}, runs of at least "
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
    from cardiospike.training.evaluate import beat_metrics, recording_f1, recording_summary

    recordings = _load(labelled, fmt, ignore_time)
    if any(r.labels is None for r in recordings):
        raise fail(f"{labelled}: evaluation needs labels: add a 'y' column (0/1 per beat)")
    detector = _detector(model)
    scored = detector.score_many(recordings)
    y = np.concatenate([r.labels for r in recordings]).astype(bool)
    proba = np.concatenate([s.proba for s in scored])
    ids = np.repeat([r.id for r in recordings], [len(r) for r in recordings])
    flags = np.concatenate([s.is_anomaly for s in scored])
    overall = beat_metrics(y, flags, proba)
    per_rec = recording_f1(ids, y, flags)
    if as_json:
        out = {
            "overall": overall,
            "per_recording_f1": recording_summary(per_rec),
            "recordings": per_rec.to_dict(orient="records"),
        }
        typer.echo(json.dumps(out, indent=2, default=str))
        return
    table = Table(title=f"Per recording (model {detector.model_version}, threshold {detector.threshold:.3f})")
    for col in ("id", "beats", "precision", "recall", "F1"):
        table.add_column(col, justify="right")
    for row in per_rec.itertuples():
        table.add_row(
            escape(str(row.id)), str(row.n_beats), f"{row.precision:.3f}", f"{row.recall:.3f}", f"{row.f1:.3f}"
        )
    console.print(table)
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
    truth = (
        int(np.sum(np.diff(np.concatenate([[0], recording.labels, [0]])) == 1)) if recording.labels is not None else 0
    )
    console.print(
        f"Model {detector.model_version}, threshold {detector.threshold:.3f}; the simulation placed {truth} episodes; "
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
