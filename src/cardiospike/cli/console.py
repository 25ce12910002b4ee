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


def warn(message: str) -> None:
    """Print ``Warning: message`` on stderr (one unwrapped line; brackets in it are text, never markup)."""
    err_console.print(f"[bold yellow]Warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def warn_mostly_errors(count: int, named: Sequence[str], hint: str | None) -> None:
    """Say that ``count`` recordings (``named`` the first of them) are mostly measurement errors, and what to try
    (``hint``, a template chosen from the values of the first: another unit, another column)."""
    if not count:
        return
    from cardiospike.data.errors import render_hint

    names = ", ".join(repr(i) for i in named) + (f" and {count - len(named)} more" if count > len(named) else "")
    which = f"{count} recordings ({names})" if count > 1 else f"recording {names}"
    try_this = f"; {render_hint(hint, 'cli')}" if hint else ""
    warn(f"more than half the beats of {which} are measurement errors (RR outside the measurement range){try_this}")


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
