"""Learning of a change without waiting out the TTL: /api/changes and ``watch=True``."""

from __future__ import annotations

import threading
import time

import anyio
import httpx
import pytest

from mcpreg.client import AsyncRegistry, Registry
from tests.conftest import server_doc
from tests.support.live import LiveServer
from tests.support.waiting import Stopwatch, wait_until

NAME = "io.github.acme/weather"
WITHIN = 2.0  # seconds: the README's "about a second", with room for a loaded machine


def test_changes_answers_at_once_without_after_and_waits_for_the_next_change(
    live: LiveServer, api: httpx.Client, anon: httpx.Client
) -> None:
    first = anon.get("/api/changes").json()
    assert first["changed"] is True and first["generation"] >= 0
    idle = anon.get("/api/changes", params={"after": first["generation"], "wait": 0}).json()
    assert idle == {"generation": first["generation"], "changed": False}

    timer = threading.Timer(0.3, lambda: api.post("/v0.1/publish", json=server_doc()))
    timer.start()
    started = time.monotonic()
    moved = anon.get("/api/changes", params={"after": first["generation"], "wait": 10}).json()
    timer.join()
    assert moved["changed"] is True and moved["generation"] > first["generation"]
    assert 0.25 <= time.monotonic() - started < 5, "it waited for the change, not for the full wait"


@pytest.mark.parametrize("params", [{"after": "x"}, {"wait": "31"}, {"wait": "-1"}])
def test_changes_refuses_bad_parameters(anon: httpx.Client, params: dict[str, str]) -> None:
    response = anon.get("/api/changes", params=params)
    assert response.status_code == 422
    assert response.json()["field"] in params


def _deploy_then_canary_free_upgrade(api: httpx.Client) -> None:
    for version in ("1.0.0", "1.1.0"):
        assert api.post("/v0.1/publish", json=server_doc(version=version)).status_code == 200
    for version in ("1.0.0", "1.1.0"):
        deployed = api.post(
            "/api/environments/production/deployments", json={"server": NAME, "version": version}
        )
        assert deployed.status_code in (200, 201), deployed.text


def test_a_watching_client_with_a_long_ttl_sees_a_rollback_within_two_seconds(
    live: LiveServer, api: httpx.Client
) -> None:
    _deploy_then_canary_free_upgrade(api)
    with Registry(live.url, cache_ttl=60) as blind, Registry(live.url, cache_ttl=60, watch=True) as watching:
        assert blind.get_server(NAME, environment="production").version == "1.1.0"
        assert watching.get_server(NAME, environment="production").version == "1.1.0"
        # Bounded: the watcher has taken its first generation, so the change below is news to it.
        wait_until(lambda: watching._generation >= 0, 10, "the watcher's first generation")
        api.post(f"/api/environments/production/servers/{NAME}/rollback", json={"notes": "test"})
        rolled_back = Stopwatch()
        wait_until(
            lambda: watching.get_server(NAME, environment="production").version == "1.0.0",
            WITHIN,
            "the watcher expiring the cache",
        )
        print(f"\nwatching client: the rollback seen {rolled_back.elapsed:.3f}s after it was made")
        assert blind.get_server(NAME, environment="production").version == "1.1.0", "the TTL still holds"


def test_the_async_client_watches_too(live: LiveServer, api: httpx.Client) -> None:
    _deploy_then_canary_free_upgrade(api)

    async def scenario() -> None:
        async with AsyncRegistry(live.url, cache_ttl=60, watch=True) as registry:
            assert (await registry.get_server(NAME, environment="production")).version == "1.1.0"
            with anyio.fail_after(10):  # the watcher has taken its first generation
                while registry._generation < 0:
                    await anyio.sleep(0.01)
            await anyio.to_thread.run_sync(
                lambda: api.post(f"/api/environments/production/servers/{NAME}/rollback", json={})
            )
            with anyio.fail_after(WITHIN):
                while (await registry.get_server(NAME, environment="production")).version != "1.0.0":
                    await anyio.sleep(0.05)

    anyio.run(scenario)
