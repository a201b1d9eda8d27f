"""Commands that act on the database directly (tokens, import, export, rotation).

The default database is ``./.mcpreg/mcpreg.db``: relative to the directory the command
runs in, where ``mcpreg serve`` (``make run``) creates it. Run from anywhere else, a local
command would silently create a second, empty database and act on that: a token made
there would not work against the running registry. So when neither
``MCPREG_DATABASE_URL`` nor ``MCPREG_DATA_DIR`` names a database and the default file
does not exist, a local command refuses, naming the file it would have used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from mcpreg.db import migrate
from mcpreg.db.engine import make_null_pool_engine, unit_of_work
from mcpreg.errors import ConfigurationError, RegistryError
from mcpreg.settings import Settings

err = Console(stderr=True, soft_wrap=True)


def fail(error: RegistryError) -> None:
    """Print a refused request the way every command does, then exit 1."""
    field = f" (field: {error.field})" if error.field else ""
    err.print(f"[red]error[/red] {escape(error.code)}: {escape(error.detail + field)}", highlight=False)
    raise typer.Exit(1)


def implicit_database(settings: Settings) -> Path | None:
    """The default SQLite file, when no ``MCPREG_DATABASE_URL`` or ``MCPREG_DATA_DIR`` chose one."""
    if settings.environ.get("MCPREG_DATABASE_URL") or settings.environ.get("MCPREG_DATA_DIR"):
        return None
    return (settings.data_dir / "mcpreg.db").resolve()


def refuse_a_new_default_database(settings: Settings) -> None:
    """Exit 1 rather than create the default database here (see the module's docstring)."""
    path = implicit_database(settings)
    if path is None or path.exists():
        return
    fail(
        ConfigurationError(
            f"there is no database at {path} (the default, ./.mcpreg/mcpreg.db in this directory), "
            "and nothing was created. Run this command in the directory where `mcpreg serve` "
            "(`make run`) runs, or name the database with MCPREG_DATA_DIR or MCPREG_DATABASE_URL",
            field="MCPREG_DATA_DIR",
            code="no_database",
        )
    )


def local_engine() -> tuple[Settings, sa.Engine]:
    try:
        settings = Settings.from_env()
    except RegistryError as exc:
        fail(exc)
        raise
    refuse_a_new_default_database(settings)
    engine = make_null_pool_engine(settings.database_url)
    migrate.upgrade(engine)
    return settings, engine


@contextmanager
def local_session(write: bool = True) -> Iterator[Session]:
    _settings, engine = local_engine()
    try:
        with unit_of_work(engine, write=write) as session:
            yield session
    except RegistryError as exc:
        fail(exc)
    finally:
        engine.dispose()
