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


#: Options every command has, which a page need not find in a command's own.
UNIVERSAL = {"--help", "--install-completion", "--show-completion"}


def parse_problem(args: list[str]) -> str | None:
    """Why the command line would not take ``cardiospike ARGS`` as written (no command, a bad option or value), or
    None: the command is parsed, never run."""
    # Typer's own copy of Click: its groups are no click.Group, its errors TyperExceptions.
    command = typer.main.get_command(app)
    path = ["cardiospike"]
    rest = list(args)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    if hasattr(command, "commands"):
        return "names no command"
    try:
        with command.make_context(" ".join(path), list(rest)):
            pass
    except typer.TyperException as exc:
        return str(exc)
    except SystemExit:  # --help, --version: eager options that exit
        pass
    # A command that passes unknown options on (train's Hydra overrides) would take a renamed option as one.
    options = {o for p in command.params for o in p.opts}
    unknown = {a.split("=")[0] for a in rest if a.startswith("--")} - options - UNIVERSAL
    return f"no such option {unknown}" if unknown else None


def missing_make_targets(targets: list[str], makefile: Path) -> list[str]:
    """The ``make`` targets among ``targets`` that ``makefile`` does not define."""
    text = makefile.read_text()
    return [t for t in targets if not re.search(rf"^{re.escape(t)}:", text, re.MULTILINE)]
