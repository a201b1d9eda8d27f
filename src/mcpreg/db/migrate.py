"""Apply the Alembic migrations that ship inside the package.

A database already at ``HEAD`` is recognised with one query and Alembic is never loaded:
importing and running it is a third of a command's start-up (``mcpreg import``, ``mcpreg
tokens``), and almost every start finds the schema current.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
HEAD = "0018"  # the newest revision in migrations/versions (tests/db keeps the two in step)
_PG_LOCK_ID = 0x6D637072  # "mcpr": serialises concurrent replicas starting at once


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def serves(revision: str | None) -> bool:
    """Whether this build can serve a schema at ``revision``: at its head, or past it (a newer
    replica migrated during a rolling update; revisions are zero-padded numbers, and
    migrations only add)."""
    return revision is not None and revision >= HEAD


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to head; safe to call from several processes at once."""
    if current_revision(engine) == HEAD:
        return
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_PG_LOCK_ID})")
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_ID})")
                connection.commit()
