"""What the commands share on the terminal: the consoles, the one way to stop on an error, the warning about
recordings that are mostly measurement errors, the progress bar."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True)


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless ``n`` is 1: "1 beat", "2 beats", "0 measurement errors"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``Error: message`` on stderr (one unwrapped line, no traceback) and return the exit to raise.

    The message is printed as it is: brackets in it (a path, a header such as ``RR [ms]``, ``cardiospike[train]``)
    are text, never console markup.
    """
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)


def warn_mostly_errors(count: int, named: Sequence[str], units: set[str]) -> None:
    """Say that ``count`` recordings (``named`` the first of them) are mostly measurement errors: their RR are
    probably in another unit or column. ``units``: the units they were read in."""
    if not count:
        return
    names = ", ".join(repr(i) for i in named) + (f" and {count - len(named)} more" if count > len(named) else "")
    other = "ms" if units == {"s"} else "s"
    err_console.print(
        f"[bold yellow]Warning:[/] more than half the beats of {count} recording(s) ({escape(names)}) are "
        f"measurement errors (RR outside the measurement range): is RR in another unit or column? Try --unit {other}"
        ", or --rr-column NAME.",
        highlight=False,
        soft_wrap=True,
    )


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
