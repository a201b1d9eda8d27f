"""``/readyz``: ready only with a reachable, migrated database, and never while draining;
``/v0.1/health`` stays the liveness answer throughout."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.api.runtime import runtime
from mcpreg.db import migrate
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS
from tests.support.live import LiveServer
from tests.support.served import free_port


def _settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "MCPREG_DATABASE_URL": database_url,
            "MCPREG_DATA_DIR": str(tmp_path / "data"),
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_DEV": "1",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
        }
    )


def test_a_replica_on_a_migrated_database_is_ready(anon: httpx.Client) -> None:
    response = anon.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema": migrate.HEAD}
    assert response.headers["cache-control"] == "no-store"


def test_a_draining_replica_is_not_ready_but_still_alive(live: LiveServer, anon: httpx.Client) -> None:
    runtime(live.app).drain.start()
    assert anon.get("/readyz").status_code == 503
    assert anon.get("/readyz").json()["status"] == "draining"
    assert anon.get("/v0.1/health").status_code == 200
    assert anon.get("/v0.1/servers").status_code == 200  # draining still serves what it is sent


def test_a_replica_whose_database_is_unreachable_is_not_ready(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    settings = _settings(url, tmp_path)
    app = create_app(settings, prepare=False, background=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "reason": "the database is unavailable"}
        assert client.get("/v0.1/health").status_code == 200


def test_a_replica_on_an_unmigrated_database_is_not_ready_until_it_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(_settings(url, tmp_path), prepare=False, background=False)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "migrating", "schema": None, "needs": migrate.HEAD}
        engine = sa.create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        assert client.get("/readyz").status_code == 200
