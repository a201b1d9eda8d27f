"""Commands that act on the database directly (serve, tokens, import, rotation)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import typer
from rich.console import Console
from sqlmodel import Session

from mcpreg.db import migrate
from mcpreg.db.engine import make_null_pool_engine, unit_of_work
from mcpreg.errors import RegistryError
from mcpreg.settings import Settings

err = Console(stderr=True)


def fail(error: RegistryError) -> None:
    """Print a refused request the way every command does, then exit 1."""
    field = f" (field: {error.field})" if error.field else ""
    err.print(f"[red]error[/red] {error.code}: {error.detail}{field}", highlight=False)
    raise typer.Exit(1)


def local_engine() -> tuple[Settings, sa.Engine]:
    try:
        settings = Settings.from_env()
    except RegistryError as exc:
        fail(exc)
        raise
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
