"""Start-up: migrate, load the sample catalogue into an empty database, seed defaults."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.db import migrate
from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import Meta, Release
from mcpreg.domain.legacy import iter_import_documents
from mcpreg.domain.principal import SYSTEM
from mcpreg.errors import ConfigurationError
from mcpreg.services.environments import ensure_default_environments
from mcpreg.services.importer import ImportReport, import_items
from mcpreg.settings import Settings

log = logging.getLogger("mcpreg")
SAMPLE_LOADED = "sample_data_loaded"
SCHEMA_WAIT = 300.0  # seconds a replica that does not migrate waits for the schema to reach head
SCHEMA_POLL = 1.0


def sample_catalogue_path(settings: Settings) -> Path | None:
    configured = settings.environ.get("MCPREG_SAMPLE_DATA_PATH")
    if configured:
        return Path(configured)
    for candidate in (Path.cwd() / "registry-data", Path(__file__).resolve().parents[3] / "registry-data"):
        if (candidate / "catalogue.json").is_file():
            return candidate
    return None


def load_sample_catalogue(session: Session, folder: Path) -> ImportReport:
    data = orjson.loads((folder / "catalogue.json").read_bytes())
    return import_items(session, SYSTEM, iter_import_documents(data))


def wait_for_schema(engine: sa.Engine, *, timeout: float = SCHEMA_WAIT, poll: float = SCHEMA_POLL) -> None:
    """Block until another process (``mcpreg migrate``) has brought the schema to head."""
    deadline = time.monotonic() + timeout
    while not migrate.serves(revision := migrate.current_revision(engine)):
        if time.monotonic() >= deadline:
            raise ConfigurationError(
                f"the database schema is at {revision or 'nothing'}, not {migrate.HEAD}, after waiting "
                f"{timeout:.0f} s: run `mcpreg migrate` (or set MCPREG_MIGRATE_ON_START=1)",
                field="MCPREG_MIGRATE_ON_START",
            )
        log.info("waiting for migrations: schema at %s, this build needs %s", revision, migrate.HEAD)
        time.sleep(poll)


def prepare_database(engine: sa.Engine, settings: Settings) -> None:
    """Migrate to head (or wait for ``mcpreg migrate`` to), then run the first-start steps once."""
    if settings.migrate_on_start:
        migrate.upgrade(engine)
    else:
        wait_for_schema(engine)
    with unit_of_work(engine, write=True) as session:
        seed_defaults(session)
        if not settings.sample_data:
            return
        if session.get(Meta, SAMPLE_LOADED) is not None:
            return
        if session.exec(select(Release.id).limit(1)).first() is not None:
            return
        folder = sample_catalogue_path(settings)
        if folder is None:
            log.warning("no registry-data/catalogue.json found; starting with an empty catalogue")
            return
        report = load_sample_catalogue(session, folder)
        session.add(Meta(key=SAMPLE_LOADED, value=str(len(report.landed))))
        log.info("loaded the sample catalogue: %d releases", len(report.landed))


def seed_defaults(session: Session) -> None:
    """Defaults every registry starts with (environments are added by their own module)."""
    ensure_default_environments(session)
