"""Migrations: 0004 upgrades a populated 0003 database on each backend; a current one is left alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from mcpreg.db import migrate
from mcpreg.db.engine import make_null_pool_engine
from tests.conftest import BACKENDS
from tests.support.databases import empty_database


def test_head_names_the_newest_migration() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert script.get_current_head() == migrate.HEAD


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgresql" else None
    with empty_database(request.param, tmp_path, admin, "migrate") as url:
        yield url


def _indexes(engine: sa.Engine) -> dict[str, list[str | None]]:
    return {i["name"] or "": i["column_names"] for i in sa.inspect(engine).get_indexes("release")}


def test_a_populated_0003_database_upgrades_to_the_listing_order_index(empty_url: str) -> None:
    engine = make_null_pool_engine(empty_url)
    try:
        config = migrate.alembic_config(empty_url)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0003")
            connection.commit()
        assert migrate.current_revision(engine) == "0003"
        assert "ix_release_status" in _indexes(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO server (name, created_at, updated_at) VALUES ('io.github.acme/weather', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO release (server_id, server_name, version, version_key, is_prerelease, status, "
                "status_changed_at, created_at, updated_at, is_latest, description, document, created_by) "
                "SELECT id, name, '1.0.0', '01101001001~', false, 'active', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00', true, '', '{}', 'test' FROM server"
            )
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.HEAD
        indexes = _indexes(engine)
        assert "ix_release_status" not in indexes
        assert indexes["ix_release_listing"] == ["server_name", "version_key"]
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version FROM release").scalars().all() == ["1.0.0"]
        migrate.upgrade(engine)  # already current: a no-op
    finally:
        engine.dispose()
