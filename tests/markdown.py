"""Reading Markdown pages for the tests that hold the README and ``docs/`` to the code: fenced blocks, the shell
commands of ``bash`` blocks, and the arguments of the ``cardiospike`` commands among them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer

from cardiospike.cli import app

#: A comment line before a ``python`` block that marks it to be run (in ``docs/``; the README's blocks all run).
RUNNABLE = "<!-- runnable -->"
#: Shell words that end one command and start another.
OPERATORS = {";", "&", "&&", "|", "||", "(", ")"}


def fenced(page: Path, language: str) -> list[tuple[int, str, bool]]:
    """The fenced blocks of ``language``: line of their first line of code, code, and whether marked runnable."""
    blocks, lines = [], page.read_text().splitlines()
    current: str | None = None
    start = 0
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            if current is None:
                current, start = line.strip()[3:].strip(), number + 1
            else:
                if current == language:
                    before = [x for x in lines[: start - 2] if x.strip()]
                    marked = bool(before) and before[-1].strip() == RUNNABLE
                    blocks.append((start, "\n".join(lines[start - 1 : number - 1]), marked))
                current = None
    return blocks


def shell_commands(page: Path) -> list[tuple[int, list[str]]]:
    """Each simple command of the page's ``bash`` blocks (continued lines joined, comments cut) as its words, with
    the line where it starts."""
    commands = []
    for start, block, _ in fenced(page, "bash"):
        lines = block.splitlines()
        # A line ending in a backslash goes on on the next: the command is on the line where it starts.
        starts = [start + i for i in range(len(lines)) if not (i and lines[i - 1].endswith("\\"))]
        joined = re.sub(r"\\\n", " ", block)
        for number, line in zip(starts, joined.splitlines(), strict=True):
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words: list[str] = []
            for word in [*lexer, ";"]:
                if word in OPERATORS:
                    if words:
                        commands.append((number, words))
                    words = []
                else:
                    words.append(word)
    return commands


def cardiospike_args(words: list[str]) -> list[str] | None:
    """The arguments of a ``cardiospike`` command among ``words`` (``docker compose run ... cardiospike predict``
    too), or None where they run none (``docker build -t cardiospike .``)."""
    names = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for i, word in enumerate(words):
        if word == "cardiospike" or word.endswith("/cardiospike"):
            args = [w.strip("[]") for w in words[i + 1 :]]  # [--port 8000]: an optional part, shown
            if args and (args[0] in names or args[0].startswith("--")):
                return args
    return None
