"""What the package shows of another library's error: its message on one line.

A service logs, and the command line prints, every failure as one line; libraries raise multi-line messages
(tracebacks of a server, SQLAlchemy's links to its documentation) or none at all.
"""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its class name where it has none).

    An error that wraps a driver's (SQLAlchemy's ``orig``) is shown by the driver's message, which says what
    happened; the wrapper adds the statement and a link.
    """
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]
