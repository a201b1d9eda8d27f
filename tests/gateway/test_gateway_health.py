"""Health checks: the prober marks a killed canary unhealthy, the gateway sends its clients to
stable within the interval plus a second, and both recover when the upstream is back."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from mcpreg.api.app import create_app
from mcpreg.db.engine import unit_of_work
from mcpreg.gateway.prober import Prober
from mcpreg.services import health
from mcpreg.settings import Settings
from tests.conftest import make_token, publish
from tests.support.gateway_clients import NAME, call, deploy, gateway_url, whoami_version
from tests.support.live import LiveServer
from tests.support.prometheus import samples, value
from tests.support.upstreams import Upstream, answer_of, build, remote_doc, tool_text, upstreams
from tests.support.waiting import wait_until

INTERVAL = 0.5
TARGET = f"/api/environments/production/servers/{NAME}"


class Restartable:
    """An upstream on a fixed loopback port that can be stopped (refusing connections) and started again."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        upstream.url = f"http://127.0.0.1:{self.port}/mcp"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(build(self.upstream), log_level="warning", access_log=False)
        config.timeout_graceful_shutdown = 1
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server is not None and self.server.started, timeout=10)

    def stop(self) -> None:
        assert self.server is not None and self.thread is not None
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def canary() -> Iterator[Restartable]:
    upstream = Restartable(Upstream("1.1.0"))
    upstream.start()
    yield upstream
    if upstream.thread is not None and upstream.thread.is_alive():
        upstream.stop()


@pytest.fixture(scope="module")
def stable() -> Iterator[Upstream]:
    with upstreams("1.0.0") as started:
        yield started["1.0.0"]


def served_version(api: httpx.Client, url: str, client: str) -> str | None:
    """The version the gateway serves ``client`` now; None while it answers an error."""
    answer = call(api, url, "whoami", client)
    if answer.status_code != 200:
        return None
    return str(json.loads(tool_text(answer_of(answer)))["version"])


def canary_client(api: httpx.Client) -> str:
    for n in range(200):
        if api.get(f"{TARGET}/resolve", params={"client": f"c{n}"}).json()["version"] == "1.1.0":
            return f"c{n}"
    raise AssertionError("no client id is routed to the canary")


def test_a_killed_canary_is_unhealthy_its_clients_go_to_stable_and_both_recover(
    settings: Settings, engine: sa.Engine, stable: Upstream, canary: Restartable
) -> None:
    fast = dataclasses.replace(
        settings,
        health_interval=INTERVAL,
        health_timeout=2.0,
        health_unhealthy_after=1,
        health_healthy_after=1,
    )
    admin = make_token(engine, "admin", ["admin"])
    with (
        LiveServer(create_app(fast, engine)) as live,
        httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as api,
    ):
        publish(api, remote_doc("1.0.0", stable.url))
        publish(api, remote_doc("1.1.0", canary.upstream.url))
        deploy(api, "1.0.0")
        deploy(api, "1.1.0", strategy="canary", weight=50)
        client = canary_client(api)
        url = gateway_url(live)

        def states() -> dict[str, str | None]:
            return {v["version"]: v["state"] for v in api.get(f"{TARGET}/health").json()["versions"]}

        wait_until(lambda: states() == {"1.0.0": "healthy", "1.1.0": "healthy"}, timeout=15)
        assert whoami_version(api, url, client) == "1.1.0"

        canary.stop()
        killed = time.monotonic()
        wait_until(lambda: served_version(api, url, client) == "1.0.0", timeout=15, every=0.05)
        moved = time.monotonic() - killed
        print(f"clients of the killed canary moved to stable in {moved:.2f} s (interval {INTERVAL} s)")
        assert moved <= INTERVAL * fast.health_unhealthy_after + 1.0
        body = api.get(f"{TARGET}/health").json()
        assert states()["1.1.0"] == "unhealthy"
        assert "sent to stable" in body["note"]
        events = api.get(f"{TARGET}/history").json()["events"]
        marked = next(e for e in events if e["action"] == "health")
        assert marked["version"] == "1.1.0" and marked["actor"] == "prober"
        seen = samples(api.get("/metrics").text)
        labels = {"server": NAME, "environment": "production", "version": "1.1.0"}
        assert value(seen, "mcpreg_version_health", state="unhealthy", **labels) == 1.0
        assert value(seen, "mcpreg_version_health", state="healthy", **labels) == 0.0

        canary.start()
        wait_until(lambda: states()["1.1.0"] == "healthy", timeout=15)
        wait_until(lambda: served_version(api, url, client) == "1.1.0", timeout=5)


def test_an_unhealthy_stable_beside_a_healthy_canary_is_reported_and_nothing_moves(
    api: httpx.Client, engine: sa.Engine, stable: Upstream
) -> None:
    publish(api, remote_doc("1.0.0", stable.url))
    publish(api, remote_doc("1.1.0", stable.url.replace("/mcp", "/other")))
    deploy(api, "1.0.0")
    deploy(api, "1.1.0", strategy="canary", weight=10)
    with unit_of_work(engine, write=True) as session:
        for _ in range(3):
            health.record(session, "production", NAME, "1.0.0", False, "ConnectError: refused")
        health.record(session, "production", NAME, "1.1.0", True)
    body = api.get(f"{TARGET}/health").json()
    assert [(v["version"], v["track"], v["state"]) for v in body["versions"]] == [
        ("1.0.0", "stable", "unhealthy"),
        ("1.1.0", "canary", "healthy"),
    ]
    assert body["versions"][0]["detail"] == "ConnectError: refused"
    assert "nothing moves by itself" in body["note"]
    resolved = api.get(f"{TARGET}/resolve", params={"client": "anyone"}).json()
    assert resolved["version"] in ("1.0.0", "1.1.0")  # routing itself is unchanged
    with unit_of_work(engine) as session:
        assert health.unhealthy_versions(session, "production", NAME) == frozenset({"1.0.0"})


def test_two_probers_never_probe_in_the_same_pass(settings: Settings, engine: sa.Engine) -> None:
    one, two = Prober(settings, engine, _keyring(settings)), Prober(settings, engine, _keyring(settings))

    async def passes() -> None:
        await one.run_once()
        await two.run_once()
        await one.run_once()

    asyncio.run(passes())
    assert (one.passes, two.passes) == (2, 0)
    one.release()  # a clean stop gives the lease up: the other takes over at once
    asyncio.run(two.run_once())
    assert two.passes == 1


def _keyring(settings: Settings):  # type: ignore[no-untyped-def]
    from mcpreg.api.config import load_app_keyring

    return load_app_keyring(settings)
