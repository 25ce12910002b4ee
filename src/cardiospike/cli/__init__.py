"""The ``cardiospike`` command line: thin commands that delegate to the package, one module per command group.

Each command imports what it needs when it runs, so ``cardiospike --help`` loads none of pandas, scikit-learn,
LightGBM, torch, Hydra or Optuna.
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from cardiospike.cli import demo, evaluate, predict, report, search, serve, train
from cardiospike.version import package_version

app = typer.Typer(
    help="Find anomaly episodes, beat by beat, in heart RR-interval recordings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


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


app.command(context_settings=train.CONTEXT)(train.train)
app.command()(predict.predict)
app.command()(report.report)
app.command()(evaluate.evaluate)
app.command()(demo.demo)
app.command()(serve.serve)
app.add_typer(search.app, name="search")
