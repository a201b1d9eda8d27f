"""An empty, unmigrated database on either backend, for tests of migrating and of start-up."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import _pg_url, _worker


@contextmanager
def empty_database(backend: str, folder: Path, admin: sa.Engine | None, label: str) -> Iterator[str]:
    """The URL of a new SQLite file in ``folder``, or of a new PostgreSQL database (dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'{label}.db'}"
        return
    assert admin is not None, "PostgreSQL needs the postgres_admin engine"
    name = f"mcpreg_{label}_{_worker()}_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
