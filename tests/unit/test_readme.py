"""Every code block of the README works as written.

The ``python`` blocks run, in order and in one namespace (a later block uses what an earlier one made), in an empty
working folder. In the ``bash`` blocks, each ``cardiospike ...`` command is either run for real there, where it is
quick (``demo``, and ``predict``, ``report``, ``evaluate`` of the sample ``demo -o`` writes), or parsed by the
command line as it would be run (serve, train, search, datasets in S3 ...), so that an option renamed in the code
fails here; each ``make TARGET`` names a target of the Makefile. (``test_docs.py`` keeps the README's option table
in step with ``--help``.)
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from tests.markdown import cardiospike_args, fenced, missing_make_targets, parse_problem, shell_commands

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: The commands run for real on the sample: quick on a file of a thousand beats.
RUN = {"demo", "predict", "report", "evaluate"}
SAMPLE = "sample.csv"


def _blocks(language: str) -> list[tuple[int, str]]:
    """The fenced blocks of ``language``, each with the README line of its first line of code."""
    return [(start, code) for start, code, _ in fenced(README, language)]


CARDIOSPIKE = [(line, args) for line, words in shell_commands(README) if (args := cardiospike_args(words)) is not None]
RUN_FOR_REAL = [(line, args) for line, args in CARDIOSPIKE if args[0] == "demo" or (args[0] in RUN and SAMPLE in args)]
PARSED = [(line, args) for line, args in CARDIOSPIKE if (line, args) not in RUN_FOR_REAL]
MAKE = [(line, words[1:]) for line, words in shell_commands(README) if words[0] == "make"]


def _id(case: tuple[int, list[str]]) -> str:
    line, args = case
    return f"README.md:{line} " + " ".join(args[:2])


def test_the_readme_shows_commands_of_each_kind():
    # The extraction above finds what it looks for.
    assert RUN_FOR_REAL
    assert PARSED
    assert MAKE
    shown = {args[0] for _, args in RUN_FOR_REAL}
    assert {"demo", "predict", "report", "evaluate"} <= shown, "the first steps on the sample are in the README"


def test_python_blocks_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    blocks = _blocks("python")
    assert blocks
    namespace: dict[str, Any] = {"__name__": "readme"}
    for line, code in blocks:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, f"README.md:{line}", "exec"), namespace)
    stream = namespace["stream"]
    assert stream.decided == stream.received == len(namespace["recording"])  # every beat decided, the last at close


def test_first_steps_run_on_the_sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """demo -o, then predict, report, evaluate of what it wrote: in the README's order, in an empty folder."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    for line, args in RUN_FOR_REAL:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"README.md:{line}: cardiospike {' '.join(args)}\n{result.output}"
        for option in ("-o", "--output"):
            if option in args and args[args.index(option) + 1] != "-":
                assert (tmp_path / args[args.index(option) + 1]).is_file(), f"README.md:{line}: nothing written"


@pytest.mark.parametrize("case", PARSED, ids=_id)
def test_other_commands_parse(case: tuple[int, list[str]]):
    """The command line takes the command as shown (its options, their values, the subcommands), without running it."""
    line, args = case
    problem = parse_problem(args)
    assert problem is None, f"README.md:{line}: cardiospike {' '.join(args)}: {problem}"


@pytest.mark.parametrize("case", MAKE, ids=lambda c: f"README.md:{c[0]} make {' '.join(c[1])}")
def test_make_targets_exist(case: tuple[int, list[str]]):
    line, targets = case
    missing = missing_make_targets(targets, ROOT / "Makefile")
    assert not missing, f"README.md:{line}: no make {missing}"
