"""A rolling restart loses nothing: SIGTERM to a real ``mcpreg serve`` under load.

The replica turns not-ready at once and keeps serving through its drain period (the load
balancer's cue to stop sending it traffic), lets requests in flight and an open long poll
finish, and exits 0. The load here behaves like a balancer: it stops sending new requests
to this replica once it has seen ``/readyz`` answer 503.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_KEYS
from tests.support.served import free_port

pytestmark = pytest.mark.slow
START_TIMEOUT = 60.0
LOAD_THREADS = 6


def serve_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    env.update(
        {
            "MCPREG_DATABASE_URL": database_url,
            "MCPREG_DATA_DIR": str(tmp_path / "data"),
            "MCPREG_SECRET_KEYS": TEST_KEYS,
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_ACCESS_LOG": "0",
            **extra,
        }
    )
    return env


def spawn_serve(env: dict[str, str], port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mcpreg", "serve", "--port", str(port), "--log-level", "info"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@contextmanager
def mcpreg_serve(
    database_url: str, tmp_path: Path, **extra: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = spawn_serve(serve_env(database_url, tmp_path, **extra), port)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "mcpreg serve did not become ready"
            time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@dataclass
class Load:
    url: str
    stop: threading.Event = field(default_factory=threading.Event)
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def worker(self, index: int) -> None:
        # Half the workers keep one connection alive, half open a new one per request.
        keep = index % 2 == 0
        client = httpx.Client(base_url=self.url, timeout=30) if keep else None
        try:
            while not self.stop.is_set():
                try:
                    if client is not None:
                        response = client.get("/v0.1/servers", params={"limit": 5})
                    else:
                        response = httpx.get(self.url + "/v0.1/servers", params={"limit": 5}, timeout=30)
                    outcome = None if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                with self.lock:
                    if outcome is None:
                        self.ok += 1
                    else:
                        self.failures.append(outcome)
        finally:
            if client is not None:
                client.close()


def _wait_until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_sigterm_under_load_drains_finishes_in_flight_work_and_exits_zero(
    database_url: str, tmp_path: Path
) -> None:
    with mcpreg_serve(database_url, tmp_path, MCPREG_SHUTDOWN_DRAIN="1.5", MCPREG_SHUTDOWN_TIMEOUT="10") as (
        process,
        url,
    ):
        load = Load(url)
        threads = [threading.Thread(target=load.worker, args=(i,)) for i in range(LOAD_THREADS)]
        for thread in threads:
            thread.start()
        _wait_until(lambda: load.ok >= 50, 30)

        # An open long poll (a stream in flight): it must be answered, not cut.
        generation = httpx.get(url + "/api/changes", params={"wait": 0}, timeout=10).json()["generation"]
        poll: dict[str, object] = {}

        def long_poll() -> None:
            try:
                response = httpx.get(
                    url + "/api/changes", params={"after": generation, "wait": 20}, timeout=30
                )
                poll["status"], poll["body"] = response.status_code, response.json()
            except httpx.HTTPError as exc:
                poll["error"] = repr(exc)

        poller = threading.Thread(target=long_poll)
        poller.start()
        time.sleep(0.3)  # let the poll reach the server; it waits up to 20 s for a change
        assert poller.is_alive()

        sent_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        # Readiness turns false at once, while the replica still serves.
        _wait_until(lambda: httpx.get(url + "/readyz", timeout=5).status_code == 503, 5)
        not_ready_after = time.monotonic() - sent_at
        served_while_draining = load.ok
        time.sleep(0.3)
        assert load.ok > served_while_draining, "the replica stopped serving before its drain ended"
        load.stop.set()  # the balancer has taken the replica out
        for thread in threads:
            thread.join(timeout=30)

        poller.join(timeout=30)
        assert poll.get("status") == 200, poll
        assert poll["body"] == {"generation": generation, "changed": False}

        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert load.failures == [], load.failures[:5]
        assert load.ok > 50
        assert not_ready_after < 1.0
        assert "Traceback" not in output, output


def test_a_second_sigterm_ends_the_drain_early(database_url: str, tmp_path: Path) -> None:
    with mcpreg_serve(database_url, tmp_path, MCPREG_SHUTDOWN_DRAIN="60") as (process, url):
        process.send_signal(signal.SIGTERM)
        _wait_until(lambda: httpx.get(url + "/readyz", timeout=5).status_code == 503, 5)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output


def test_a_replica_that_does_not_migrate_waits_for_mcpreg_migrate(database_url: str, tmp_path: Path) -> None:
    """The Kubernetes shape: serve with MCPREG_MIGRATE_ON_START=0 becomes ready only after
    ``mcpreg migrate`` (the init step) has run."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with _fresh_database(database_url, tmp_path) as fresh:
        env = serve_env(fresh, tmp_path, MCPREG_MIGRATE_ON_START="0")
        process = spawn_serve(env, port)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")))  # type: ignore[union-attr]
        reader.start()
        try:
            _wait_until(lambda: any("waiting for migrations" in line for line in lines), 30)
            with pytest.raises(httpx.TransportError):
                httpx.get(url + "/v0.1/health", timeout=1)  # waiting, not serving
            migrated = subprocess.run(
                [sys.executable, "-m", "mcpreg", "migrate"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert migrated.returncode == 0, migrated.stderr
            assert migrated.stdout.startswith("schema at ")
            _wait_until(lambda: _ready(url), 30)
        finally:
            process.terminate()
            process.wait(timeout=30)
            reader.join(timeout=10)
        assert process.returncode == 0, "".join(lines)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def _fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database on the same backend, dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    from tests.conftest import PG_ADMIN_URL, _pg_url, _worker

    name = f"mcpreg_fresh_{_worker()}_{os.getpid()}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
