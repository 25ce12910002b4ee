"""Storage URLs: what opens, and the one-line errors (exit 2, no traceback) for what does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cardiospike.cli import app
from cardiospike.search.storage import StorageError, journal_path, open_storage, safe_url

from ..server_process import free_port

runner = CliRunner()


def test_journal_urls_name_a_file():
    assert journal_path("journal:///tmp/s.log") == Path("/tmp/s.log")
    assert journal_path("journal://runs/s.log") == Path("runs/s.log")
    assert journal_path("sqlite:///s.db") is None
    with pytest.raises(StorageError, match="no file"):
        journal_path("journal://")


def test_passwords_stay_out_of_messages():
    assert "secret" not in safe_url("postgresql://me:secret@db/x")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "malformed storage URL"),
        ("nosuchdb://host/x", "cannot open storage"),
        ("sqlite://", "in-memory database"),
        ("mysql://me@127.0.0.1/x", "cannot open storage"),  # the driver is not installed
    ],
)
def test_bad_urls(url: str, message: str):
    with pytest.raises(StorageError, match=message):
        open_storage(url)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["search", *args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


def test_unreachable_server_is_a_clear_error():
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/search"  # nothing listens there
    code, output = _run("run", f"storage={url}", "search_debug=quick")
    assert code == 2
    assert "cannot open storage" in output
    assert "Connection refused" in output
    assert len(output.strip().splitlines()) <= 2  # one line, maybe wrapped by the terminal width


@pytest.mark.parametrize("command", ["status", "best"])
def test_read_commands_report_bad_storages(command: str, tmp_path: Path):
    extra = ["-o", str(tmp_path / "best.yaml")] if command == "best" else []
    code, output = _run(command, "--study", "x", "--storage", "::nope::", *extra)
    assert (code, "malformed storage URL" in output) == (2, True)
    code, output = _run(command, "--study", "x", "--storage", f"sqlite:///{tmp_path}/missing.db", *extra)
    assert (code, "no SQLite database" in output) == (2, True)
    assert not (tmp_path / "missing.db").exists()


def test_only_the_table_creation_race_is_retried():
    from sqlalchemy.exc import IntegrityError, OperationalError

    from cardiospike.search.storage import _lost_table_race

    assert _lost_table_race(OperationalError("CREATE TABLE studies", {}, Exception("table studies already exists")))
    assert _lost_table_race(IntegrityError("INSERT", {}, Exception("duplicate key value")))
    assert not _lost_table_race(OperationalError("connect", {}, Exception("Connection refused")))
