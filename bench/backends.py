"""Fresh databases for one benchmark run: a SQLite file in a temp data dir, or a PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_ADMIN_URL = os.environ.get("MCPREG_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


@dataclass
class Database:
    """One fresh database and the environment that points mcpreg at it."""

    backend: str
    label: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    pg_name: str | None = None

    def files(self) -> list[Path]:
        """SQLite files found under the data dir (empty for PostgreSQL)."""
        return sorted(p for p in self.data_dir.rglob("*") if p.suffix in (".db", ".sqlite", ".sqlite3"))

    def drop(self) -> None:
        """Remove the data dir and, for PostgreSQL, drop the database."""
        if self.pg_name is not None:
            _drop_pg(self.pg_name)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def postgres_unreachable_reason() -> str | None:
    """None when the admin connection works; otherwise a one-line reason."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{POSTGRES_ADMIN_URL} unreachable: {' '.join(str(exc).split())[:300]}"
    return None


def service_url(db_name: str) -> str:
    """The ``MCPREG_DATABASE_URL`` for ``db_name`` on the admin URL's server."""
    parts = urlsplit(POSTGRES_ADMIN_URL)
    return urlunsplit(("postgresql+psycopg", parts.netloc, f"/{db_name}", parts.query, ""))


def _drop_pg(name: str) -> None:
    import psycopg

    assert name.startswith("mcpreg_bench_"), name
    with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _create_pg(name: str) -> None:
    import psycopg

    _drop_pg(name)
    with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def fresh(backend: str, label: str) -> Database:
    """A new empty database for ``backend``; ``label`` names it (``mcpreg_bench_<label>``)."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"mcpreg-bench-{backend}-{label}-"))
    db = Database(backend=backend, label=label, data_dir=data_dir)
    db.env["MCPREG_DATA_DIR"] = str(data_dir)
    if backend == "postgresql":
        db.pg_name = f"mcpreg_bench_{label}"
        _create_pg(db.pg_name)
        db.env["MCPREG_DATABASE_URL"] = service_url(db.pg_name)
    elif backend != "sqlite":
        raise ValueError(f"unknown backend {backend!r}")
    return db
