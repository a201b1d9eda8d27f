"""Real ``mcpreg serve`` subprocesses, and a runner for real ``mcpreg`` CLI subprocesses.

The one way the tests start ``mcpreg serve``: ``spawn_serve`` (a process on a free port, its
output in a log file), ``wait_answers`` (a bounded wait until a path answers 200, failing
with the log if the process exits), ``stop_serve``, and ``running_serve`` (all three as a
context manager). ``serving`` builds on them for the CLI tests: ``tests/cli/conftest.py``
keeps one per test module and backend (``served``).
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


def serve_env(**variables: str) -> dict[str, str]:
    """This process's environment without any ``MCPREG_*`` variable, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    env.update(variables)
    return env


@dataclass
class Spawned:
    """One ``mcpreg serve`` process, its address and its log (stdout and stderr together)."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def spawn_serve(
    env: dict[str, str],
    log: Path,
    *,
    cwd: Path | None = None,
    port: int | None = None,
    log_level: str = "warning",
    args: tuple[str, ...] = (),
) -> Spawned:
    """Start ``mcpreg serve`` on 127.0.0.1 (a free port unless given); returns at once."""
    port = port or free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [MCPREG, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", log_level, *args],
            env=env,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Spawned(process, f"http://127.0.0.1:{port}", log)


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers 200 now (False when nothing listens yet)."""
    try:
        return httpx.get(url, timeout=timeout).status_code == 200
    except httpx.TransportError:
        return False


def wait_answers(spawned: Spawned, path: str = "/v0.1/health", timeout: float = START_TIMEOUT) -> None:
    """Wait (bounded) until ``path`` answers 200; fail with the log if the process exits first."""
    deadline = time.monotonic() + timeout
    while not answers(spawned.url + path, timeout=1):
        if spawned.process.poll() is not None:
            raise RuntimeError(f"mcpreg serve exited with {spawned.process.returncode}:\n{spawned.output()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{spawned.url}{path} did not answer within {timeout}s:\n{spawned.output()}")
        time.sleep(0.05)


def stop_serve(spawned: Spawned, timeout: float = 15.0) -> int:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout``; the exit status."""
    if spawned.process.poll() is None:
        spawned.process.terminate()
    try:
        return spawned.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        spawned.process.kill()
        return spawned.process.wait(timeout=timeout)


@contextmanager
def running_serve(
    env: dict[str, str], log: Path, *, ready: str = "/v0.1/health", **options: Any
) -> Iterator[Spawned]:
    """``spawn_serve``, ``wait_answers`` on ``ready``, and ``stop_serve`` on the way out."""
    spawned = spawn_serve(env, log, **options)
    try:
        wait_answers(spawned, ready)
        yield spawned
    finally:
        stop_serve(spawned)


def wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """``wait_answers`` for a process started elsewhere (``tests/support/walkthrough.py``)."""
    wait_answers(Spawned(process, url, log))


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
    server_env = serve_env(
        MCPREG_DATABASE_URL=database_url,
        MCPREG_DATA_DIR=str(home / "data"),
        MCPREG_DEV="1",
        MCPREG_SAMPLE_DATA="0",
        MCPREG_SECRET_KEYS=TEST_KEYS,
        MCPREG_SCHEDULER_INTERVAL="0.2",
        MCPREG_ACCESS_LOG="0",
        # The releases these tests deploy name remotes nobody serves: the prober would mark them
        # unhealthy and add health events to the histories the tests read (tests/cli/test_health_cli.py
        # and tests/gateway/ test the prober with real upstreams).
        MCPREG_HEALTH_CHECKS="0",
    )
    spawned = spawn_serve(server_env, home / "serve.log")
    engine = make_null_pool_engine(database_url)
    try:
        wait_answers(spawned)
        created = subprocess.run(
            [MCPREG, "tokens", "create", "--name", "cli-admin", "--scope", "admin"],
            env=server_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        yield Served(spawned.url, database_url, created.stdout.strip(), home, engine)
    finally:
        stop_serve(spawned)
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
