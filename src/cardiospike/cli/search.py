"""``cardiospike search ...``: run a worker, show a study, write its best parameters (the logic: cardiospike.search).

Every command names its study with the same two options, ``--study`` and ``--storage``; where one is not given it
comes from the search configuration (``conf/search.yaml``), so ``run``, ``status`` and ``best`` agree on a study by
default. ``run`` takes Hydra overrides of that configuration besides. Optuna and Hydra are imported inside the
commands, so that ``cardiospike --help`` stays fast and works without them.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cardiospike.cli.console import console, err_console, fail

if TYPE_CHECKING:
    import optuna
    from omegaconf import DictConfig

app = typer.Typer(
    help="Hyper-parameter search: Optuna workers sharing one study in a database or journal file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: Exit code of a worker stopped by SIGINT (128 + 2, as shells report it).
EXIT_INTERRUPTED = 130

StudyOption = Annotated[
    str | None, typer.Option("--study", "-s", help="Study name (default: the configuration's study).")
]
StorageOption = Annotated[
    str | None,
    typer.Option(
        "--storage",
        help="SQLAlchemy URL (postgresql+psycopg2://..., sqlite:///f.db) or journal:///f.log "
        "(default: the configuration's storage).",
    ),
]


def _require_extra() -> None:
    try:
        import hydra  # noqa: F401
        import optuna  # noqa: F401
    except ImportError as exc:
        raise fail(f"the search needs its extra ({exc.name} is missing): pip install 'cardiospike[search]'") from None


def _config(study: str | None, storage: str | None, overrides: list[str] | None = None) -> DictConfig:
    """The search configuration with ``overrides``, and the study and storage the options name."""
    _require_extra()
    from cardiospike.search.config import search_config
    from cardiospike.training.config import ConfigError

    try:
        return search_config(overrides or [], study=study, storage=storage)
    except ConfigError as exc:
        raise fail(str(exc)) from None


@app.command(context_settings={"ignore_unknown_options": True})
def run(
    overrides: Annotated[
        list[str] | None, typer.Argument(help="Hydra overrides: n_trials=20 sampler.seed=1 search_space=nn ...")
    ] = None,
    study: StudyOption = None,
    storage: StorageOption = None,
    cfg: Annotated[str | None, typer.Option("--cfg", help="Print the resolved configuration ('job') and exit.")] = None,
) -> None:
    """Join the study (creating it if needed) and run trials until it has n_trials finished ones."""
    conf = _config(study, storage, overrides)
    if cfg is not None:
        if cfg != "job":
            raise fail(f"--cfg takes 'job', not {cfg!r}")
        from cardiospike.search.config import to_yaml

        typer.echo(to_yaml(conf), nl=False)
        return
    from sqlalchemy.exc import SQLAlchemyError

    from cardiospike.data.io import RecordingFormatError
    from cardiospike.errors import first_line
    from cardiospike.search import config as search_config
    from cardiospike.search.sampling import quiet_experimental_warnings
    from cardiospike.search.storage import StorageError, open_storage, safe_url
    from cardiospike.search.worker import WorkerInterruptedError, create_study, run_worker
    from cardiospike.training.config import ConfigError

    # A worker always stops on Ctrl-C, even where it was started with SIGINT ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        quiet_experimental_warnings()
        opened = open_storage(str(conf.storage), search_config.heartbeat(conf))
        objective = search_config.objective(conf)
        found = create_study(str(conf.study), opened, search_config.sampler(conf), search_config.pruner(conf))
        err_console.print(
            f"Worker joined study [bold]{conf.study}[/] at {safe_url(str(conf.storage))}: "
            f"{len(objective.data.y)} beats, {conf.cv.folds} folds, {conf.n_trials} trials in total",
            highlight=False,
        )
        summary = run_worker(found, objective, int(conf.n_trials), poll_s=min(2.0, float(conf.heartbeat.interval)))
    except (ConfigError, StorageError, RecordingFormatError, ValueError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None
    except SQLAlchemyError as exc:
        raise fail(f"lost the storage: {first_line(exc)}") from None
    except WorkerInterruptedError as exc:
        raise fail(f"interrupted: {exc}", code=EXIT_INTERRUPTED) from None
    console.print(
        f"Worker done: ran {summary.ran} trial(s); the study has {summary.finished} of {summary.n_trials} finished."
    )


@app.command()
def best(
    out: Annotated[Path, typer.Option("--out", "-o", help="YAML file to write the best parameters to.")],
    study: StudyOption = None,
    storage: StorageOption = None,
) -> None:
    """Write the best trial's parameters as a training configuration (model: {lgbm: {...}}) to a YAML file."""
    _require_extra()
    from cardiospike.search.report import best_of, best_yaml, overrides

    try:
        found = best_of(_study(study, storage))
    except ValueError as exc:
        raise fail(str(exc)) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(best_yaml(found), encoding="utf-8")
    console.print(
        f"Trial {found.trial.number} (F1 {found.trial.value:.4f}) written to [bold]{out}[/]; as overrides:\n"
        f"  {' '.join(overrides(found))}",
        highlight=False,
        soft_wrap=True,
    )


@app.command()
def status(study: StudyOption = None, storage: StorageOption = None) -> None:
    """Print the study's trials by state and its best trial so far."""
    _require_extra()
    from cardiospike.search.report import best_of, state_counts

    found = _study(study, storage)
    trials = found.get_trials(deepcopy=False)
    states = Table(title=f"Study {found.study_name}: {len(trials)} trials")
    states.add_column("state")
    states.add_column("trials", justify="right")
    for state, n in state_counts(trials).items():
        states.add_row(state, str(n))
    console.print(states)
    try:
        top = best_of(found)
    except ValueError as exc:
        console.print(str(exc))
        return
    console.print(f"Best so far: trial {top.trial.number}, F1 {top.trial.value:.4f}", highlight=False)
    params = Table()
    params.add_column("parameter")
    params.add_column("value", justify="right")
    for name, value in top.trial.params.items():
        params.add_row(name, f"{value:.4g}" if isinstance(value, float) else str(value))
    console.print(params)
    if fold_f1 := top.trial.user_attrs.get("fold_f1"):
        console.print("F1 per fold: " + ", ".join(f"{f:.4f}" for f in fold_f1), highlight=False)


def _study(study: str | None, storage: str | None) -> optuna.Study:
    """The existing study the options name (the configuration's where they name none)."""
    conf = _config(study, storage)
    from cardiospike.search.storage import StorageError, load_study, open_storage

    try:
        return load_study(str(conf.study), open_storage(str(conf.storage), must_exist=True))
    except StorageError as exc:
        raise fail(str(exc)) from None
