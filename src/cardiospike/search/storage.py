"""Where a study lives: any SQLAlchemy URL, or Optuna's journal file as ``journal:///path/to/file.log``.

Every worker opens the same URL. Database storages get a heartbeat, so that the trial of a worker that died is
marked FAIL after a grace period and its parameters are queued again; the journal file has no heartbeat.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.storages import BaseStorage, JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, ProgrammingError, SQLAlchemyError

from cardiospike.errors import first_line

#: URL prefix of Optuna's journal file: ``journal:///abs/path.log`` or ``journal://relative/path.log``.
JOURNAL_PREFIX = "journal://"

#: Seconds to wait for a database server to answer before giving up (a firewalled host otherwise hangs for minutes).
CONNECT_TIMEOUT_S = 10

#: Seconds SQLite waits for another worker's write lock to clear before failing.
SQLITE_BUSY_TIMEOUT_S = 60

#: Tries to open a database whose tables another worker may be creating at the same moment.
TABLE_RACE_ATTEMPTS = 5


class StorageError(RuntimeError):
    """A storage URL that is malformed, names a missing driver or file, or points at an unreachable server."""


@dataclass(frozen=True)
class Heartbeat:
    """How a database storage notices dead workers (see :class:`optuna.storages.RDBStorage`)."""

    interval: int = 30
    grace_period: int = 90
    max_retry: int | None = 3


def journal_path(url: str) -> Path | None:
    """The file of a ``journal://`` URL, or None for any other URL."""
    if not url.startswith(JOURNAL_PREFIX):
        return None
    path = url.removeprefix(JOURNAL_PREFIX)
    if not path:
        raise StorageError(f"no file in journal URL {url!r}: use journal:///absolute/path.log")
    return Path(path)


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL, or :class:`StorageError` saying what is wrong with it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"malformed storage URL {url!r}: expected e.g. postgresql+psycopg2://user@host:5432/db, "
            "sqlite:///file.db or journal:///path/file.log"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise StorageError(f"{url!r} is an in-memory database: workers could not share it; name a file")
    return parsed


def engine_kwargs(url: URL) -> dict[str, Any]:
    """Connection options: a busy timeout for SQLite, a connect timeout and liveness checks for servers."""
    if url.get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}, "pool_pre_ping": True}


def _lost_table_race(exc: BaseException) -> bool:
    """Whether opening failed because another worker was creating Optuna's tables at the same moment.

    Workers started together on an empty database all create the tables; the losers see a duplicate key
    (PostgreSQL) or a table that already exists (SQLite, MySQL). By the next attempt the tables are there.
    """
    return isinstance(exc, IntegrityError | ProgrammingError) or "already exists" in str(exc)


def _rdb_storage(url: str, parsed: URL, heartbeat: Heartbeat | None) -> RDBStorage:
    if heartbeat is None:
        return RDBStorage(url, engine_kwargs=engine_kwargs(parsed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)  # heartbeats are "experimental" since v2.8
        return RDBStorage(
            url,
            engine_kwargs=engine_kwargs(parsed),
            heartbeat_interval=heartbeat.interval,
            grace_period=heartbeat.grace_period,
            heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=heartbeat.max_retry),
        )


def open_storage(url: str, heartbeat: Heartbeat | None = None, *, must_exist: bool = False) -> BaseStorage:
    """Open (and for databases, connect to and create the tables of) the storage at ``url``.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL or ``journal:///path/file.log``.
    heartbeat : Heartbeat, optional
        For database storages: fail and retry the trials of dead workers. None for read-only commands.
    must_exist : bool
        Refuse a SQLite or journal file that does not exist yet (instead of creating an empty one).

    Raises
    ------
    StorageError
        With a one-line reason, for any URL that cannot be opened.
    """
    path = journal_path(url)
    if path is not None:
        if must_exist and not path.is_file():
            raise StorageError(f"no journal file at {path}")
        try:
            return JournalStorage(JournalFileBackend(str(path)))
        except OSError as exc:
            raise StorageError(f"cannot open journal {path}: {exc}") from None
    parsed = parse_url(url)
    if must_exist and parsed.get_backend_name() == "sqlite" and not Path(str(parsed.database)).is_file():
        raise StorageError(f"no SQLite database at {parsed.database}")
    for attempt in range(TABLE_RACE_ATTEMPTS):
        try:
            return _rdb_storage(url, parsed, heartbeat)
        except (SQLAlchemyError, ImportError, RuntimeError, ValueError, OSError) as exc:
            if not _lost_table_race(exc) or attempt + 1 == TABLE_RACE_ATTEMPTS:
                raise StorageError(f"cannot open storage {safe_url(url)}: {first_line(exc)}") from None
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def load_study(name: str, storage: BaseStorage) -> optuna.Study:
    """An existing study, or :class:`StorageError` listing the studies the storage holds."""
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False))
        raise StorageError(f"no study {name!r} in this storage; it holds: {', '.join(names) or 'none'}") from None
