"""The documentation folder (``docs/``) and the README hold together.

- Every relative link of the README and of ``docs/`` leads to a file (or folder) that exists, and every ``#anchor``
  to a heading of that page (GitHub's anchors).
- The generated pages of ``docs/reference/`` are what ``docs/generate.py`` (``make docs``) writes now.
- The ``python`` blocks of ``docs/`` marked ``<!-- runnable -->`` run, page by page, in order and in one namespace,
  in an empty working folder.
- Each ``cardiospike`` command of the ``bash`` blocks of ``docs/`` parses as written, each ``cardiospike ...`` in
  inline code names a command with options it has, each option shown alone exists, and each ``make`` target named
  exists. (``test_readme.py`` and ``cli/test_docs.py`` hold the README to the same.)
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from cardiospike.cli import app
from tests.markdown import UNIVERSAL, cardiospike_args, fenced, missing_make_targets, parse_problem, shell_commands

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
#: Every Markdown page whose links are checked.
PAGES = sorted([README, *DOCS.rglob("*.md")])
#: The pages written by hand (not generated, not the README's draft): their blocks and commands are checked.
HAND_WRITTEN = sorted(DOCS.glob("*.md"))

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
SPAN = re.compile(r"`([^`\n]+)`")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
COMMAND = re.compile(r"(?:^|[\s/])cardiospike((?: +[a-z-][^\s#|]*)*)")
#: Shell words that end one command and start another.
#: Options every command has.


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


# --- Markdown ------------------------------------------------------------------------------------------------------


def _prose(page: Path) -> Iterator[tuple[int, str]]:
    """Each line outside fenced blocks, with its number."""
    fenced = False
    for number, line in enumerate(page.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped (not ``-`` or ``_``), spaces ``-``."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors a page has: its headings' (a repeated one numbered -1, -2 ...) and explicit ``<a id>``s."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose(page):
        if match := HEADING.match(line):
            base = slug(match.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found.update(HTML_ANCHOR.findall(line))
    return found


def _links(page: Path) -> Iterator[tuple[int, str]]:
    for number, line in _prose(page):
        # Code spans hold no links: blank them out, keeping the brackets of link text around them.
        line = CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), line)
        for match in LINK.finditer(line):
            yield number, match.group(1)


# --- links ---------------------------------------------------------------------------------------------------------


def test_the_pages_are_found():
    names = {p.name for p in HAND_WRITTEN}
    assert {"index.md", "getting-started.md", "architecture.md", "model.md"} <= names
    assert (DOCS / "reference" / "python-api.md") in PAGES


def test_github_slugs():
    assert slug("Datasets: Parquet and Dask") == "datasets-parquet-and-dask"
    assert slug("What an anomaly is, and is not") == "what-an-anomaly-is-and-is-not"
    assert slug("`POST /api/v1/predict`") == "post-apiv1predict"
    assert slug("`__version__`") == "__version__"
    assert slug("A file through `cardiospike predict`") == "a-file-through-cardiospike-predict"


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_relative_links_resolve(page: Path):
    base = page.parent
    wrong = []
    for number, target in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not checked here
            continue
        path_part, _, anchor = target.partition("#")
        where = f"{_name(page)}:{number}: {target}"
        target_path = page if not path_part else (base / path_part).resolve()
        if not target_path.exists():
            wrong.append(f"{where}: no such file")
        elif anchor:
            if target_path.suffix != ".md":
                wrong.append(f"{where}: an anchor into a file that is no Markdown page")
            elif anchor not in anchors(target_path):
                wrong.append(f"{where}: no heading with this anchor in {target_path.name}")
        elif ROOT not in target_path.parents and target_path != ROOT:
            wrong.append(f"{where}: outside the repository")
    assert not wrong, "\n".join(wrong)


# --- generated pages -----------------------------------------------------------------------------------------------


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["python-api.md", "rest-api.md"])
def test_generated_pages_are_up_to_date(name: str):
    generate = _generator()
    page = DOCS / "reference" / name
    assert page.is_file(), f"docs/reference/{name} is missing: run make docs"
    assert page.read_text() == generate.PAGES[name](), f"docs/reference/{name} is out of date: run make docs"


def test_the_python_reference_covers_the_public_api():
    import cardiospike

    text = (DOCS / "reference" / "python-api.md").read_text()
    missing = [name for name in cardiospike.__all__ if f"## `{name}`" not in text]
    assert not missing


# --- runnable blocks -----------------------------------------------------------------------------------------------

RUNNABLE_PAGES = [p for p in HAND_WRITTEN if any(marked for _, _, marked in fenced(p, "python"))]


def test_some_blocks_are_runnable():
    assert {p.name for p in RUNNABLE_PAGES} >= {"python.md", "live.md"}


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=_name)
def test_runnable_python_blocks_run_as_written(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "docs"}
    for line, code, marked in fenced(page, "python"):
        if marked:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"{_name(page)}:{line}", "exec"), namespace)
    if "stream" in namespace:  # the live example: every beat decided, the last ones at close
        stream = namespace["stream"]
        assert stream.decided == stream.received == len(namespace["recording"])


# --- commands ------------------------------------------------------------------------------------------------------


def _command_tree(command: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    command = typer.main.get_command(app) if command is None else command
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_tree(sub, (*path, name))


COMMANDS = dict(_command_tree())


def _options(command: Any) -> set[str]:
    return {o for p in command.params for o in p.opts if o.startswith("--")}


SHELL = [(page, line, words) for page in HAND_WRITTEN for line, words in shell_commands(page)]
CARDIOSPIKE = [(p, line, args) for p, line, words in SHELL if (args := cardiospike_args(words)) is not None]
MAKE = [(p, line, words[1:]) for p, line, words in SHELL if words[0] == "make"]


def test_the_pages_show_commands():
    assert len(CARDIOSPIKE) > 10
    assert MAKE


@pytest.mark.parametrize("case", CARDIOSPIKE, ids=lambda c: f"{_name(c[0])}:{c[1]} {' '.join(c[2][:2])}")
def test_cardiospike_commands_parse(case: tuple[Path, int, list[str]]):
    page, line, args = case
    problem = parse_problem(args)
    assert problem is None, f"{_name(page)}:{line}: cardiospike {' '.join(args)}: {problem}"


@pytest.mark.parametrize("case", MAKE, ids=lambda c: f"{_name(c[0])}:{c[1]} make {' '.join(c[2])}")
def test_make_targets_exist(case: tuple[Path, int, list[str]]):
    page, line, targets = case
    missing = missing_make_targets(targets, ROOT / "Makefile")
    assert not missing, f"{_name(page)}:{line}: no make {missing}"


@pytest.mark.parametrize("page", HAND_WRITTEN, ids=_name)
def test_inline_commands_and_options_exist(page: Path):
    known = UNIVERSAL.union(*(_options(c) for c in COMMANDS.values()))
    wrong = []
    for number, line in _prose(page):
        for span in SPAN.findall(line):
            if (option := OPTION.match(span.strip())) and option.group() not in known:
                wrong.append(f"{_name(page)}:{number}: no command has {option.group()}")
            for match in COMMAND.finditer(span.split("  #")[0]):
                words = match.group(1).split()
                path: tuple[str, ...] = ()
                while words and (*path, words[0]) in COMMANDS:
                    path = (*path, words.pop(0))
                command = COMMANDS[path]
                if hasattr(command, "commands") and words and not words[0].startswith("-"):
                    wrong.append(f"{_name(page)}:{number}: no command cardiospike {' '.join((*path, words[0]))}")
                unknown = set(OPTION.findall(" ".join(words))) - _options(command) - UNIVERSAL
                if unknown:
                    wrong.append(f"{_name(page)}:{number}: cardiospike {' '.join(path)} has no {unknown}")
    assert not wrong, "\n".join(wrong)
