"""What the commands share on the terminal: the consoles, the one way to stop on an error, the progress bar."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``Error: message`` on stderr (one unwrapped line, no traceback) and return the exit to raise.

    The message is printed as it is: brackets in it (a path, a header such as ``RR [ms]``, ``cardiospike[train]``)
    are text, never console markup.
    """
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def progress() -> Progress:
    """A progress bar on stderr (standard output may be the data: ``predict -o -``)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
