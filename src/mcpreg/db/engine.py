"""Engines and units of work.

SQLite runs in WAL mode; a write unit of work opens with ``BEGIN IMMEDIATE`` so two
writers queue on the busy timeout instead of failing on a lock upgrade. PostgreSQL
uses its defaults; services lock the rows they change.

Every engine hides SQL parameters (``hide_parameters``): a failed statement's text in an
exception or a log line never carries the values it was given (names, notes, secrets).
``is_unavailable`` tells an outage (503) from a bug (500).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool
from sqlmodel import Session

WRITE = "mcpreg_write"
SINGLE_READ = "mcpreg_single_read"


def make_engine(url: str, *, pool_size: int = 10) -> sa.Engine:
    """Create an engine with the per-backend settings this registry relies on."""
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
            pool_size=pool_size,
            max_overflow=20,
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(
        url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


def make_null_pool_engine(url: str) -> sa.Engine:
    """An engine holding no idle connections (migrations, CLI one-shots)."""
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
            poolclass=NullPool,
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    return sa.create_engine(url, poolclass=NullPool, hide_parameters=True)


# SQLite result codes (the primary code, the low byte) that mean the file cannot be used
# now: busy, locked, out of memory, read-only, I/O error, disk full, cannot open, protocol.
_SQLITE_UNAVAILABLE = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
# PostgreSQL SQLSTATE classes of the same kind: connection exception, invalid authorisation,
# no such database, transaction rollback (serialisation, deadlock), insufficient resources,
# operator intervention (shutdown, cancelled statement).
_POSTGRES_UNAVAILABLE = frozenset({"08", "28", "3D", "40", "53", "57"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot serve now (retry later), not a bug.

    A pool timeout, a connection found dead, a driver that cannot connect, and the
    backend result codes above are outages; a missing table or a syntax error is not.
    """
    if isinstance(exc, sa.exc.TimeoutError):
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlite_code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE_UNAVAILABLE
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in _POSTGRES_UNAVAILABLE
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)


def _ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder (e.g. a fresh MCPREG_DATA_DIR)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        options = conn.get_execution_options()
        if options.get(SINGLE_READ, False):
            return  # one SELECT in autocommit mode is its own transaction
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE, False) else "BEGIN")


@contextmanager
def single_read(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A Core connection for one read-only statement, outside any explicit transaction.

    One statement is atomic on its own, so the hottest anonymous reads (a list page, one
    release) skip the ORM session and the BEGIN/COMMIT around it: SQLite gets no BEGIN
    (its driver runs in autocommit mode here), PostgreSQL runs the statement in autocommit.
    Anything that reads twice and needs both reads to agree uses ``unit_of_work``.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            yield conn.execution_options(**{SINGLE_READ: True})
        else:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")


_writers: weakref.WeakKeyDictionary[sa.Engine, threading.RLock] = weakref.WeakKeyDictionary()
_writers_guard = threading.Lock()


def _writer_lock(engine: sa.Engine) -> threading.RLock:
    with _writers_guard:
        lock = _writers.get(engine)
        if lock is None:
            lock = _writers[engine] = threading.RLock()
        return lock


@contextmanager
def unit_of_work(engine: sa.Engine, *, write: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any exception.

    On SQLite, the write transactions of one process take turns on a lock before their
    ``BEGIN IMMEDIATE``: they wait on it instead of polling SQLite's busy handler, which
    sleeps (up to 100 ms a try) between attempts. Another process's writers still meet
    the busy timeout.
    """
    serialise = write and engine.dialect.name == "sqlite"
    with (
        _writer_lock(engine) if serialise else nullcontext(),
        Session(engine, expire_on_commit=False) as session,
    ):
        session.connection(execution_options={WRITE: write})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
