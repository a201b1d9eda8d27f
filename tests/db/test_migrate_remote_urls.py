"""0006 indexes the remote URLs of the releases a 0005 database already holds, on each backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from alembic import command

from mcpreg.db import migrate
from mcpreg.db.engine import make_null_pool_engine, unit_of_work
from mcpreg.errors import Conflict
from mcpreg.services.publish_checks import check_remote_urls
from tests.conftest import BACKENDS, server_doc
from tests.support.databases import empty_database

URL = "https://mcp.acme.example.com/weather"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    admin = request.getfixturevalue("postgres_admin") if request.param == "postgresql" else None
    with empty_database(request.param, tmp_path, admin, "migrate_remote") as url:
        yield url


def _insert_release(conn: sa.Connection, version: str, key: str, document: dict[str, object]) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO release (server_id, server_name, version, version_key, is_prerelease, status, "
            "status_changed_at, created_at, updated_at, is_latest, description, document, created_by) "
            "SELECT id, name, :version, :key, false, 'active', '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00', false, '', :document, 'test' FROM server"
        ),
        {"version": version, "key": key, "document": orjson.dumps(document).decode()},
    )


def test_a_populated_0005_database_gets_the_remote_urls_of_its_releases(empty_url: str) -> None:
    engine = make_null_pool_engine(empty_url)
    try:
        config = migrate.alembic_config(empty_url)
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0005")
            connection.commit()
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO server (name, created_at, updated_at) VALUES ('io.github.acme/weather', "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            remotes = [{"type": "streamable-http", "url": URL}, {"type": "sse", "url": URL}]
            _insert_release(conn, "1.0.0", "a", server_doc(remotes=remotes))
            _insert_release(conn, "1.1.0", "b", server_doc(version="1.1.0"))
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.HEAD
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT url, server_name, version_key FROM remote_url")).all()
        assert [tuple(r) for r in rows] == [(URL, "io.github.acme/weather", "a")]
        with unit_of_work(engine, write=True) as session:
            with pytest.raises(Conflict) as caught:
                check_remote_urls(session, server_doc(name="io.github.acme/copycat", remotes=remotes[:1]))
            assert caught.value.code == "remote_url_taken"
        migrate.upgrade(engine)  # already current: a no-op
    finally:
        engine.dispose()
