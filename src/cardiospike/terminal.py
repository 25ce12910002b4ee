"""What the command-line apps share: their consoles and the one way they stop on an error."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``Error: message`` on stderr (one unwrapped line, no traceback) and return the exit to raise.

    The message is printed as it is: brackets in it (a path, a header such as ``RR [ms]``, ``cardiospike[train]``)
    are text, never console markup.
    """
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=code)
