"""The README and ``--help`` agree, as in datasette and sqlite-utils.

Every command and each of its options appears in the README, on a line that names the command
(``cardiospike <command>`` in code); and every command, and every option in a command's code, that the README
mentions exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from cardiospike.cli import app

README = Path(__file__).resolve().parents[3] / "README.md"
#: Options every command has, which the README need not list.
UNIVERSAL = {"--help", "--install-completion", "--show-completion"}
SPAN = re.compile(r"`([^`\n]+)`")
#: ``cardiospike`` as a command, and the words after it (not ``cardiospike[s3]``, ``cardiospike.load_detector``).
COMMAND = re.compile(r"(?:^|[\s/])cardiospike((?: +[a-z-][^\s#|]*)*)")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _commands(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the app (the app itself first) with its path of names."""
    command = typer.main.get_command(app) if command is None else command
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands())


def _options(command: Any) -> set[str]:
    return {o for p in command.params for o in p.opts if o.startswith("--")} - UNIVERSAL


def _lines() -> Iterator[tuple[str, list[str]]]:
    """Each README line with its pieces of code: the line itself inside a fenced block, its inline spans outside."""
    fenced = False
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            yield line, [] if line.lstrip().startswith("#") else [line]
        else:
            yield line, SPAN.findall(line)


def _invocations(piece: str) -> Iterator[tuple[tuple[str, ...], str]]:
    """Each ``cardiospike ...`` in a piece of code: the command path it names and what follows (comment cut)."""
    for match in COMMAND.finditer(piece.split("  #")[0]):
        words = match.group(1).split()
        path: tuple[str, ...] = ()
        while words and (*path, words[0]) in COMMANDS:
            path = (*path, words.pop(0))
        yield path, " ".join(words)


def _lines_naming(path: tuple[str, ...]) -> list[str]:
    """The README's lines that show ``cardiospike <path>`` in code (the whole line: a table row counts)."""
    return [line for line, pieces in _lines() if any(p == path for piece in pieces for p, _ in _invocations(piece))]


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=lambda p: " ".join(p) or "cardiospike")
def test_every_command_and_option_is_in_the_readme(path: tuple[str, ...]):
    lines = _lines_naming(path)
    assert lines, f"the README never shows `cardiospike {' '.join(path)}`"
    shown = {option for line in lines for option in OPTION.findall(line)}
    missing = _options(COMMANDS[path]) - shown
    assert not missing, f"cardiospike {' '.join(path)}: options not on a README line naming the command: {missing}"


def test_every_command_the_readme_shows_exists():
    for _, pieces in _lines():
        for path, rest in (found for piece in pieces for found in _invocations(piece)):
            first = rest.split()[0] if rest else ""
            if hasattr(COMMANDS[path], "commands"):  # a group: a word after it that is no subcommand does not exist
                assert not first or first.startswith("-"), f"README shows `cardiospike {' '.join((*path, first))}`"
            unknown = set(OPTION.findall(rest)) - _options(COMMANDS[path]) - UNIVERSAL
            assert not unknown, f"README shows `cardiospike {' '.join(path)}` with options it lacks: {unknown}"


def test_every_option_the_readme_names_exists():
    known = UNIVERSAL.union(*(_options(command) for command in COMMANDS.values()))
    named = {match.group() for span in SPAN.findall(README.read_text()) if (match := OPTION.match(span.strip()))}
    assert named - known == set(), "README names options no command has"
