"""A real ``mcpreg serve`` subprocess and a runner for real ``mcpreg`` CLI subprocesses.

``tests/cli/conftest.py`` keeps one per test module and backend (``served``).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from mcpreg.db.engine import make_null_pool_engine
from tests.conftest import TEST_KEYS, _pg_url, _worker, make_token

MCPREG = str(Path(sys.executable).with_name("mcpreg"))
START_TIMEOUT = 60.0


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Served:
    """One running registry and how to run the CLI against it."""

    url: str
    database_url: str
    admin_token: str
    home: Path
    engine: sa.Engine

    def env(self, token: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
        env.update(
            {"MCPREG_URL": self.url, "MCPREG_CONFIG": str(self.home / "config.json"), "COLUMNS": "200"}
        )
        if token:
            env["MCPREG_TOKEN"] = token
        env.update(extra or {})
        return env

    def run(
        self,
        *args: str,
        token: str | None = "admin",
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        """``mcpreg ARGS`` as a subprocess; ``token="admin"`` is the admin token, None none."""
        chosen = self.admin_token if token == "admin" else token
        done = subprocess.run(
            [MCPREG, *args],
            env=self.env(chosen, env),
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def token(self, name: str, scopes: list[str], **kwargs: Any) -> str:
        return make_token(self.engine, name, scopes, **kwargs)

    def write(self, name: str, document: dict[str, Any]) -> Path:
        path = self.home / name
        path.write_text(json.dumps(document, indent=2))
        return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mcpreg serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/v0.1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"mcpreg serve did not answer within {START_TIMEOUT}s:\n{log.read_text()}")


_databases = itertools.count()


@contextmanager
def serving(backend: str, home: Path, postgres_admin: sa.Engine | None) -> Iterator[Served]:
    """``mcpreg serve`` over a fresh database of ``backend``, with an admin token made by the CLI."""
    database: str | None = None
    if backend == "sqlite":
        database_url = f"sqlite:///{home / 'mcpreg.db'}"
    else:
        assert postgres_admin is not None
        database = f"mcpreg_cli_{_worker()}_{os.getpid()}_{next(_databases)}"
        with postgres_admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
        database_url = _pg_url(database)
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    server_env.update(
        {
            "MCPREG_DATABASE_URL": database_url,
            "MCPREG_DATA_DIR": str(home / "data"),
            "MCPREG_DEV": "1",
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
            "MCPREG_SCHEDULER_INTERVAL": "0.2",
            "MCPREG_ACCESS_LOG": "0",
        }
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [MCPREG, "serve", "--port", str(port), "--log-level", "warning"],
            env=server_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    engine = make_null_pool_engine(database_url)
    try:
        wait_healthy(url, process, log)
        created = subprocess.run(
            [MCPREG, "tokens", "create", "--name", "cli-admin", "--scope", "admin"],
            env=server_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        yield Served(url, database_url, created.stdout.strip(), home, engine)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        engine.dispose()
        if database is not None and postgres_admin is not None:
            with postgres_admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


class Fleet:
    """The servers of one test module, one per backend, each started on first use.

    Tests take the backend as a function-level parameter, so pytest-xdist may hand a
    worker sqlite, postgresql, sqlite tests in turn without restarting anything.
    """

    def __init__(self, home: Path) -> None:
        self.home = home
        self.servers: dict[str, Served] = {}
        self.stack = ExitStack()

    def get(self, backend: str, postgres_admin: sa.Engine | None) -> Served:
        if backend not in self.servers:
            home = self.home / backend
            home.mkdir()
            self.servers[backend] = self.stack.enter_context(serving(backend, home, postgres_admin))
        return self.servers[backend]

    def close(self) -> None:
        self.stack.close()
