"""When the database fails: 503 with Retry-After for an outage, a clean 500 for a bug, no race 500s.

The outage and race tests run the app in process and point it at a database it cannot reach
(a closed port, a database whose connections are cut mid-test, a SQLite path that is no
file); the 500 tests stay on a real server, since closing the connection is part of what
they check, and break one query on purpose and read the logs for the parameter it carried.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.db import migrate
from mcpreg.db.engine import make_engine, make_null_pool_engine
from mcpreg.db.tables import Release
from mcpreg.mcp.registry import build_server
from mcpreg.services import journal
from tests.conftest import _pg_url, make_token, server_doc, settings_for
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.served import free_port
from tests.support.tools import call_tool

LATEST = "/v0.1/servers/io.github.acme/weather/versions/latest"


@pytest.fixture
def unreachable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[InProcess, sa.Engine]]:
    """An app (in process) whose database cannot be reached at all, and its engine."""
    if request.param == "postgresql":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    else:
        folder = tmp_path / "not-a-file.db"
        folder.mkdir()  # SQLite cannot open a folder: "unable to open database file"
        url = f"sqlite:///{folder}"
    engine = make_engine(url, pool_size=2)
    app = create_app(settings_for(url, tmp_path), engine, prepare=False, background=False)
    with InProcess(app) as server:
        yield server, engine
    engine.dispose()


def assert_unavailable(response: httpx.Response) -> None:
    assert_problem(response, 503, "database_unavailable")
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize("unreachable", ["sqlite", "postgresql"], indirect=True)
def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after(
    unreachable: tuple[InProcess, sa.Engine],
) -> None:
    server, engine = unreachable
    with server.client() as client:
        assert_unavailable(client.get("/v0.1/servers"))
        assert_unavailable(client.get(LATEST))  # answered before routing, by the front door
        assert_unavailable(client.get("/api/audit", headers={"Authorization": "Bearer mcpreg_x"}))
        assert_unavailable(
            client.post("/v0.1/publish", json=server_doc(), headers={"Authorization": "Bearer x"})
        )
    ok, message = call_tool(build_server(engine), "get_server", {"name": "io.github.acme/weather"})
    assert not ok and "database_unavailable: " in message  # the MCP tools say so too


def test_an_exhausted_pool_is_a_503_with_retry_after(database_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    app = create_app(settings_for(database_url, tmp_path), engine, prepare=False, background=False)
    with InProcess(app) as server, server.client() as client:
        with engine.connect():  # the pool's only connection, held
            assert_unavailable(client.get("/v0.1/servers"))
        assert client.get("/v0.1/servers").status_code == 200
    engine.dispose()


@pytest.fixture
def own_postgres(postgres_admin: sa.Engine) -> Iterator[str]:
    """A dedicated, migrated PostgreSQL database this test may cut off."""
    name = f"mcpreg_outage_{os.getpid()}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = make_null_pool_engine(_pg_url(name))
    migrate.upgrade(engine)
    engine.dispose()
    yield name
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_database_cut_off_mid_flight_is_a_503_and_service_returns_with_it(
    own_postgres: str, postgres_admin: sa.Engine, tmp_path: Path
) -> None:
    url = _pg_url(own_postgres)
    engine = make_engine(url, pool_size=2)
    token = make_token(engine, "admin", ["admin"])
    app = create_app(settings_for(url, tmp_path), engine, background=False)
    auth = {"Authorization": f"Bearer {token}"}
    with InProcess(app) as server, server.client() as client:
        assert client.post("/v0.1/publish", json=server_doc(), headers=auth).status_code == 200
        assert client.get("/v0.1/servers").status_code == 200  # the pool now holds live connections
        with postgres_admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{own_postgres}" ALLOW_CONNECTIONS false')
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (own_postgres,),
            )
        try:
            assert_unavailable(client.get("/v0.1/servers", params={"search": "weather"}))
            assert_unavailable(client.get("/api/audit", headers=auth))
            assert_unavailable(client.post("/v0.1/publish", json=server_doc(version="2.0.0"), headers=auth))
        finally:
            with postgres_admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{own_postgres}" ALLOW_CONNECTIONS true')
        assert client.get("/v0.1/servers", params={"search": "weather"}).status_code == 200
        assert client.post("/v0.1/publish", json=server_doc(version="2.0.0"), headers=auth).status_code == 200
    engine.dispose()


MARKER = "parameter-marker-7f3e9a"


def test_an_unexpected_error_is_a_500_that_closes_the_connection_and_logs_no_parameters(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(session: Any, **_: Any) -> None:
        query = sa.text("SELECT marker FROM no_such_table WHERE marker = :marker")
        session.execute(query, {"marker": MARKER})

    monkeypatch.setattr(journal, "page", broken)
    server_log = logging.getLogger("uvicorn")  # uvicorn's own loggers do not reach the root
    server_log.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.ERROR):
            response = api.get("/api/audit")
    finally:
        server_log.removeHandler(caplog.handler)
    assert_problem(response, 500, "internal_error")
    assert response.headers["connection"] == "close"
    assert MARKER not in response.text
    errors = [r for r in caplog.records if r.name.startswith("mcpreg")]
    assert errors and errors[0].exc_info is not None  # the traceback is logged
    assert "no_such_table" in caplog.text
    assert MARKER not in caplog.text
    assert api.get("/v0.1/servers").status_code == 200  # a new connection works


def test_a_bug_outside_the_database_is_a_500_that_closes_the_connection(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise KeyError(MARKER)

    monkeypatch.setattr(journal, "page", broken)
    response = api.get("/api/audit")
    assert_problem(response, 500, "internal_error")
    assert response.headers["connection"] == "close"
    assert MARKER not in response.text
    assert api.get("/v0.1/servers").status_code == 200


ROUNDS = 20


def _at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Run ``calls`` on threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    responses: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        responses[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in responses)
    return [r for r in responses if r is not None]


def _race(app_api: httpx.Client, name: str, versions: list[str]) -> list[httpx.Response]:
    """Two first publishes of ``name``, released at once."""
    return _at_once(
        *(lambda v=v: app_api.post("/v0.1/publish", json=server_doc(name=name, version=v)) for v in versions)
    )


def _versions(engine: sa.Engine, name: str) -> list[str]:
    with engine.connect() as conn:
        query = sa.select(Release.version).where(Release.server_name == name)  # type: ignore[arg-type]
        return sorted(conn.execute(query).scalars())


def test_concurrent_first_publishes_of_one_new_server_never_fail_with_a_500(
    app_api: httpx.Client, engine: sa.Engine
) -> None:
    for round_ in range(ROUNDS):
        name = f"io.github.race/server-{round_}"
        same = round_ % 2 == 0
        responses = _race(app_api, name, ["1.0.0", "1.0.0"] if same else ["1.0.0", "2.0.0"])
        statuses = [r.status_code for r in responses]
        assert all(s < 500 for s in statuses), (round_, [r.text for r in responses])
        if same:  # exactly one lands; the other is told the version exists (the official API's 400)
            landed = [r for r in responses if r.status_code == 200]
            refused = [r for r in responses if r.status_code != 200]
            assert len(landed) == 1 and 400 <= refused[0].status_code < 500, (round_, statuses)
            assert refused[0].json()["code"] == "version_exists"
            assert _versions(engine, name) == ["1.0.0"]
        else:  # two different versions of one new server: both land
            assert statuses == [200, 200], (round_, [r.text for r in responses])
            assert _versions(engine, name) == ["1.0.0", "2.0.0"]


def test_concurrent_creations_of_environments_never_fail_with_a_500(app_api: httpx.Client) -> None:
    for round_ in range(ROUNDS // 2):
        create = functools.partial(app_api.post, "/api/environments", json={"name": f"same-{round_}"})
        statuses = sorted(r.status_code for r in _at_once(create, create))
        assert statuses == [201, 409], (round_, statuses)
        names = [f"left-{round_}", f"right-{round_}"]
        both = _at_once(*(lambda n=n: app_api.post("/api/environments", json={"name": n}) for n in names))
        assert [r.status_code for r in both] == [201, 201], (round_, [r.text for r in both])
    positions = [e["position"] for e in app_api.get("/api/environments").json()["environments"]]
    assert positions == list(range(len(positions)))
