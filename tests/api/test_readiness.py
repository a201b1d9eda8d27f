"""``/readyz``: ready only with a reachable, migrated database, and never while draining;
``/v0.1/health`` stays the liveness answer throughout."""

from __future__ import annotations

from pathlib import Path

import httpx
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.api.runtime import runtime
from mcpreg.db import migrate
from tests.conftest import settings_for
from tests.support.inprocess import InProcess
from tests.support.served import free_port


def test_a_replica_on_a_migrated_database_is_ready(app_anon: httpx.Client) -> None:
    response = app_anon.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "schema": migrate.HEAD}
    assert response.headers["cache-control"] == "no-store"


def test_a_draining_replica_is_not_ready_but_still_alive(
    app_server: InProcess, app_anon: httpx.Client
) -> None:
    runtime(app_server.app).drain.start()
    assert app_anon.get("/readyz").status_code == 503
    assert app_anon.get("/readyz").json()["status"] == "draining"
    assert app_anon.get("/v0.1/health").status_code == 200
    assert app_anon.get("/v0.1/servers").status_code == 200  # draining still serves what it is sent


def test_a_replica_whose_database_is_unreachable_is_not_ready(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    settings = settings_for(url, tmp_path)
    app = create_app(settings, prepare=False, background=False)
    with InProcess(app) as server, server.client() as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "reason": "the database is unavailable"}
        assert client.get("/v0.1/health").status_code == 200


def test_a_replica_on_an_unmigrated_database_is_not_ready_until_it_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(settings_for(url, tmp_path), prepare=False, background=False)
    with InProcess(app) as server, server.client() as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "migrating", "schema": None, "needs": migrate.HEAD}
        engine = sa.create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        assert client.get("/readyz").status_code == 200
