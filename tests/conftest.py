"""Fixtures shared by every test package.

``../shared/registry-reference`` is the oracle (official schema, spec, seed data).
Where it is absent the tests that need it skip, unless MCPREG_REQUIRE_SHARED=1
(CI), where the skip becomes a failure.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from mcp.server.mcpserver import MCPServer
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

from mcpreg.api.app import create_app
from mcpreg.db import migrate
from mcpreg.db.engine import make_engine, make_null_pool_engine, unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.mcp.registry import build_server
from mcpreg.services import tokens
from mcpreg.services.bootstrap import seed_defaults
from mcpreg.settings import Settings
from tests.support.inprocess import InProcess
from tests.support.live import LiveServer
from tests.support.spec import SpecSchemas

# The suite's key ring: 32 fresh random bytes per test session (per worker), encoded as the
# key ring expects (``KEYID:BASE64URL``); a fixed or low-entropy key would be refused in production.
TEST_KEYS = "test1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")

ROOT = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = ROOT.parent / "shared" / "registry-reference"


def _require(flag: str, what: str) -> None:
    if os.environ.get(flag) == "1":
        pytest.fail(f"{what} is required here ({flag}=1) but is not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The folder of official reference files; skips (or fails in CI) when absent."""
    if not (SHARED_REFERENCE / "server.schema.json").is_file():
        _require("MCPREG_REQUIRE_SHARED", "../shared/registry-reference")
    return SHARED_REFERENCE


@pytest.fixture(scope="session")
def official_server_schema(shared_reference: Path) -> dict[str, Any]:
    """The official server.json JSON schema (draft-07)."""
    return json.loads((shared_reference / "server.schema.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def seed_servers(shared_reference: Path) -> list[dict[str, Any]]:
    """The official current-format seed documents."""
    return json.loads((shared_reference / "seed.json").read_text())  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------
# Databases: every database-backed test runs on SQLite and on PostgreSQL.
# A template is migrated once per session and worker; each test gets a fresh copy.
# --------------------------------------------------------------------------------------

PG_ADMIN_URL = os.environ.get("MCPREG_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError:
        engine.dispose()
        _require("MCPREG_REQUIRE_POSTGRES", "PostgreSQL at " + PG_ADMIN_URL.split("@")[-1])
    yield engine
    engine.dispose()


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_null_pool_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_worker_database(postgres_admin: sa.Engine) -> Iterator[str]:
    """One migrated PostgreSQL database per test worker; tests truncate it before use."""
    name = f"mcpreg_test_{_worker()}_{os.getpid()}"
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = make_null_pool_engine(_pg_url(name))
    migrate.upgrade(engine)
    engine.dispose()
    yield _pg_url(name)
    with postgres_admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_all(url: str) -> None:
    """Empty every table (DELETE is far cheaper than TRUNCATE on tables this small)."""
    import mcpreg.db.models  # noqa: F401  (every table on the metadata)

    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend (a copied file, or a truncated worker database)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "mcpreg.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_worker_database")
    _truncate_all(url)
    yield url


def settings_for(database_url: str, tmp_path: Path, **extra: str) -> Settings:
    """The suite's settings on ``database_url`` (data under ``tmp_path``), plus ``extra``."""
    return Settings.from_env(
        {
            "MCPREG_DATABASE_URL": database_url,
            "MCPREG_DATA_DIR": str(tmp_path / "data"),
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_DEV": "1",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
            **extra,
        }
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[sa.Engine]:
    """An engine on the test database, with the default environments every registry starts with."""
    engine = make_engine(settings.database_url, pool_size=5)
    with unit_of_work(engine, write=True) as session:
        seed_defaults(session)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """A session for service tests; each test commits for real into its own database."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def live(settings: Settings, engine: sa.Engine) -> Iterator[LiveServer]:
    """The real app on a real uvicorn server on a free loopback port."""
    app = create_app(settings, engine)
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def admin_token(engine: sa.Engine) -> str:
    return make_token(engine, "admin-test", ["admin"])


def make_token(
    engine: sa.Engine,
    name: str,
    scopes: list[str],
    namespaces: list[str] | None = None,
    environments: list[str] | None = None,
) -> str:
    with unit_of_work(engine, write=True) as s:
        return tokens.create_token(
            s, SYSTEM, name=name, scopes=scopes, namespaces=namespaces or [], environments=environments or []
        ).token


@pytest.fixture
def api(live: LiveServer, admin_token: str) -> Iterator[httpx.Client]:
    """An httpx client on the live server, authenticated as an admin."""
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30
    ) as client:
        yield client


@pytest.fixture
def anon(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


# --------------------------------------------------------------------------------------
# In process: the same app as ``live`` (its lifespan, background loops and cache included),
# reached through ``httpx.ASGITransport`` instead of a socket. The default for API tests
# whose behaviour is not about HTTP transport; see tests/support/inprocess.py for what stays
# on ``live``.
# --------------------------------------------------------------------------------------


@pytest.fixture
def app_server(settings: Settings, engine: sa.Engine) -> Iterator[InProcess]:
    """The real app, started in process; ``app_server.client(token)`` makes more clients."""
    with InProcess(create_app(settings, engine)) as server:
        yield server


@pytest.fixture
def app_api(app_server: InProcess, admin_token: str) -> Iterator[httpx.Client]:
    """As ``api``, in process: an httpx client on the app, authenticated as an admin."""
    with app_server.client(admin_token) as client:
        yield client


@pytest.fixture
def app_anon(app_server: InProcess) -> Iterator[httpx.Client]:
    """As ``anon``, in process: an httpx client on the app with no credentials."""
    with app_server.client() as client:
        yield client


@pytest.fixture
def mcp_server(engine: sa.Engine) -> MCPServer:
    """The registry's MCP server on the test database, for an in-memory ``mcp.Client(server)``."""
    return build_server(engine)


@pytest.fixture(scope="session")
def spec(shared_reference: Path) -> SpecSchemas:
    """The official OpenAPI spec's schemas, as validators."""
    return SpecSchemas(shared_reference / "openapi.yaml")


def publish(client: httpx.Client, doc: dict[str, Any]) -> httpx.Response:
    response = client.post("/v0.1/publish", json=doc)
    assert response.status_code == 200, response.text
    return response


def server_doc(name: str = "io.github.acme/weather", version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    """A small valid server.json document."""
    doc: dict[str, Any] = {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": name,
        "description": f"Weather forecasts for {name}",
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@acme/weather-mcp",
                "version": version.split("+")[0],
                "transport": {"type": "stdio"},
            }
        ],
    }
    doc.update(extra)
    return doc
