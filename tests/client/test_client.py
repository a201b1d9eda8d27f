"""The Python client against a real registry: reads, caching, revalidation, typed errors."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.client import (
    AsyncRegistry,
    Conflict,
    NoDeployment,
    NotFound,
    PermissionDenied,
    Registry,
    RegistryClientError,
    ServerError,
    Unauthenticated,
    Unreachable,
    ValidationFailed,
)
from mcpreg.client.cache import ResponseCache
from tests.conftest import make_token, server_doc
from tests.support.live import LiveServer
from tests.support.waiting import Stopwatch, wait_until

NAME = "io.github.acme/weather"


class Statuses:
    """Counts the status codes a client received (an httpx response event hook)."""

    def __init__(self) -> None:
        self.seen: Counter[int] = Counter()

    def __call__(self, response: httpx.Response) -> None:
        self.seen[response.status_code] += 1

    @property
    def requests(self) -> int:
        return sum(self.seen.values())


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def admin(live: LiveServer, admin_token: str) -> Iterator[Registry]:
    with Registry(live.url, token=admin_token, cache_ttl=0) as registry:
        yield registry


def watched(url: str, ttl: float, token: str | None = None) -> tuple[Registry, Statuses]:
    statuses = Statuses()
    return Registry(url, token=token, cache_ttl=ttl, event_hooks={"response": [statuses]}), statuses


def test_get_server_finds_latest_an_exact_version_a_channel_and_a_range(admin: Registry) -> None:
    for version in ("1.0.0", "1.2.0", "2.0.0-rc.1"):
        admin.publish(server_doc(version=version))
    admin.set_channel(NAME, "next", "2.0.0-rc.1")

    assert admin.get_server(NAME).version == "1.2.0"
    assert admin.get_server(NAME, version="1.0.0").version == "1.0.0"
    assert admin.get_server(NAME, channel="next").version == "2.0.0-rc.1"
    assert admin.get_server(NAME, range="^1.0.0").version == "1.2.0"
    assert admin.get_server(NAME, range=">=1.0.0", prerelease=True).version == "2.0.0-rc.1"
    release = admin.get_server(NAME)
    assert release.name == NAME and release.is_latest and release.status == "active"
    assert release.server["packages"][0]["identifier"] == "@acme/weather-mcp"


def test_get_server_refuses_contradictory_selectors_before_any_request(admin: Registry) -> None:
    with pytest.raises(ValueError):
        admin.get_server(NAME, version="1.0.0", channel="next")
    with pytest.raises(ValueError):
        admin.get_server(NAME, client_id="svc-1")
    with pytest.raises(ValueError):
        admin.get_server(NAME, environment="production", range="^1")


def test_list_servers_follows_the_cursor_over_every_page(live: LiveServer, admin: Registry) -> None:
    names = [f"io.github.acme/server-{i:02d}" for i in range(7)]
    for name in names:
        admin.publish(server_doc(name=name))
    registry, statuses = watched(live.url, ttl=0)
    with registry:
        listed = [r.name for r in registry.list_servers(page_size=2)]
    assert listed == names
    assert statuses.seen[200] == 4, "seven servers in pages of two"


def test_reads_within_the_ttl_send_no_request_until_the_cache_is_cleared(
    live: LiveServer, admin: Registry
) -> None:
    admin.publish(server_doc(version="1.0.0"))
    registry, statuses = watched(live.url, ttl=60)
    with registry:
        assert registry.get_server(NAME).version == "1.0.0"
        admin.publish(server_doc(version="1.1.0"))
        assert registry.get_server(NAME).version == "1.0.0", "still fresh: served from memory"
        assert statuses.requests == 1
        registry.clear_cache()
        assert registry.get_server(NAME).version == "1.1.0"
        assert statuses.seen[200] == 2


def test_after_the_ttl_a_read_revalidates_and_a_304_reuses_the_stored_body(
    live: LiveServer, admin: Registry
) -> None:
    admin.publish(server_doc(version="1.0.0"))
    registry, statuses = watched(live.url, ttl=30)
    clock = FakeClock()
    registry.cache = ResponseCache(30, clock=clock)
    with registry:
        first = registry.get_server(NAME, version="1.0.0")
        clock.now += 31
        again = registry.get_server(NAME, version="1.0.0")
        assert again == first
        assert statuses.seen == Counter({200: 1, 304: 1})
        clock.now += 10
        registry.get_server(NAME, version="1.0.0")
        assert statuses.requests == 2, "the 304 started a new TTL"
        clock.now += 31
        admin.set_status(NAME, "1.0.0", "deprecated", "moving to 2.x")
        assert registry.get_server(NAME, version="1.0.0").status == "deprecated"
        assert statuses.seen == Counter({200: 2, 304: 1})


def test_a_ttl_of_zero_revalidates_every_read_and_sees_every_change(
    live: LiveServer, admin: Registry
) -> None:
    admin.publish(server_doc(version="1.0.0"))
    admin.publish(server_doc(version="1.1.0"))
    admin.set_channel(NAME, "stable", "1.0.0")
    registry, statuses = watched(live.url, ttl=0)
    with registry:
        for _ in range(3):
            assert registry.get_server(NAME, channel="stable").version == "1.0.0"
        assert statuses.seen == Counter({200: 1, 304: 2})
        admin.set_channel(NAME, "stable", "1.1.0")
        assert registry.get_server(NAME, channel="stable").version == "1.1.0"
        assert statuses.seen == Counter({200: 2, 304: 2})


def test_what_a_client_gets_is_its_own_copy(live: LiveServer, admin: Registry) -> None:
    admin.publish(server_doc(version="1.0.0"))
    with Registry(live.url, cache_ttl=60) as registry:
        registry.get_server(NAME).server["description"] = "scribbled"
        assert registry.get_server(NAME).description != "scribbled"


def test_a_write_through_the_client_drops_what_it_cached(live: LiveServer, admin_token: str) -> None:
    with Registry(live.url, token=admin_token, cache_ttl=600) as registry:
        registry.publish(server_doc(version="1.0.0"))
        assert registry.get_server(NAME).version == "1.0.0"
        registry.publish(server_doc(version="1.1.0"))
        assert registry.get_server(NAME).version == "1.1.0"


def test_drafts_publish_duplicate_and_status_round_trip(admin: Registry) -> None:
    draft = admin.publish(server_doc(version="1.0.0"), draft=True)
    assert draft.status == "draft"
    edited = admin.update_draft(NAME, "1.0.0", server_doc(version="1.0.0", description="Edited"))
    assert edited.description == "Edited"
    assert admin.publish_draft(NAME, "1.0.0").status == "active"
    copy = admin.duplicate(NAME, "1.0.0", "1.0.1")
    assert (copy.version, copy.status) == ("1.0.1", "draft")
    assert [r.version for r in admin.versions(NAME)] == ["1.0.1", "1.0.0"]
    assert admin.set_status(NAME, "1.0.0", "deleted").status == "deleted"
    assert admin.set_status(NAME, "1.0.0", "active").status == "active"
    changes = admin.diff(NAME, "1.0.0", "1.0.1")["changes"]
    assert {c["path"] for c in changes} >= {"/version"}
    assert [c["channel"] for c in admin.channels(NAME)] == ["latest"]


# -- environments ----------------------------------------------------------------------------------


def test_get_server_in_an_environment_serves_the_stable_and_routes_clients_to_the_canary(
    admin: Registry,
) -> None:
    for version in ("1.0.0", "1.1.0"):
        admin.publish(server_doc(version=version))
    admin.deploy(NAME, "1.0.0", "staging")
    assert admin.get_server(NAME, environment="staging").version == "1.0.0"
    admin.deploy(NAME, "1.1.0", "staging", strategy="canary", weight=50)
    routed = [admin.get_server(NAME, environment="staging", client_id=f"svc-{i}") for i in range(40)]
    assert {(r.version, r.track) for r in routed} == {("1.0.0", "stable"), ("1.1.0", "canary")}
    again = admin.get_server(NAME, environment="staging", client_id="svc-7")
    assert again == admin.get_server(NAME, environment="staging", client_id="svc-7"), "sticky"
    assert admin.get_server(NAME, environment="staging").track == "stable"
    assert admin.get_server(NAME, version="1.1.0", environment="staging").version == "1.1.0"
    assert admin.resolve(NAME, "staging", "svc-7")["version"] == again.version


def test_nothing_deployed_in_an_environment_is_no_deployment(admin: Registry) -> None:
    admin.publish(server_doc(version="1.0.0"))
    with pytest.raises(NoDeployment) as caught:
        admin.get_server(NAME, environment="production")
    assert (caught.value.code, caught.value.status) == ("no_deployment", 404)
    assert isinstance(caught.value, NotFound)
    with pytest.raises(NotFound) as unknown:
        admin.get_server("io.github.nobody/nothing", environment="production")
    assert not isinstance(unknown.value, NoDeployment)


def test_a_rollback_reaches_a_client_with_a_one_second_ttl_within_two_seconds(
    live: LiveServer, admin: Registry
) -> None:
    for version in ("1.0.0", "1.1.0"):
        admin.publish(server_doc(version=version))
    admin.deploy(NAME, "1.0.0", "production")
    admin.deploy(NAME, "1.1.0", "production")
    registry, statuses = watched(live.url, ttl=1)
    with registry:

        def revalidated() -> bool:  # nothing changes: the TTL runs out, a 304 comes back
            assert registry.get_server(NAME, environment="production").version == "1.1.0"
            return statuses.seen[304] >= 1

        wait_until(revalidated, 5, "a revalidation once the one-second TTL ran out", every=0.05)
        assert statuses.seen[200] == 1 and statuses.seen[304] >= 1
        admin.rollback(NAME, "production")
        rolled_back = Stopwatch()
        wait_until(
            lambda: registry.get_server(NAME, environment="production").version == "1.0.0",
            2.0,
            "the rollback reaching a client with a one-second TTL",
        )
        print(f"\none-second TTL: the rollback seen {rolled_back.elapsed:.3f}s after it was made")
        assert statuses.seen[200] == 2


# -- typed errors ----------------------------------------------------------------------------------


def test_an_unknown_server_is_not_found_with_the_registry_code(admin: Registry) -> None:
    with pytest.raises(NotFound) as caught:
        admin.get_server("io.github.nobody/nothing")
    assert (caught.value.code, caught.value.status, caught.value.field) == (
        "server_not_found",
        404,
        "serverName",
    )
    assert not isinstance(caught.value, NoDeployment)


def test_a_reused_version_is_a_conflict(admin: Registry) -> None:
    admin.publish(server_doc(version="1.0.0"))
    with pytest.raises(Conflict) as caught:
        admin.publish(server_doc(version="1.0.0"))
    assert caught.value.code == "version_exists"
    assert caught.value.field == "/version"


def test_an_invalid_document_fails_validation_listing_every_problem(admin: Registry) -> None:
    doc = server_doc(version="v1.0.0")
    doc["packages"][0]["transport"] = {"type": "carrier-pigeon"}
    with pytest.raises(ValidationFailed) as caught:
        admin.publish(doc)
    assert caught.value.status == 422
    assert caught.value.field
    assert {e["field"] for e in caught.value.errors} >= {"/packages/0/transport/type"}


def test_writes_without_a_token_are_unauthenticated_and_outside_the_namespace_denied(
    live: LiveServer, engine: sa.Engine
) -> None:
    with Registry(live.url) as anonymous, pytest.raises(Unauthenticated) as caught:
        anonymous.publish(server_doc())
    assert caught.value.code == "unauthenticated"
    assert isinstance(caught.value, PermissionDenied)
    token = make_token(engine, "acme-publisher", ["publish"], namespaces=["io.github.other/*"])
    with Registry(live.url, token=token) as publisher, pytest.raises(PermissionDenied) as denied:
        publisher.publish(server_doc())
    assert denied.value.code == "namespace_denied"
    assert denied.value.status == 403


def test_an_unreachable_registry_is_a_typed_error_naming_the_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with Registry(url, timeout=2) as registry, pytest.raises(Unreachable) as caught:
        registry.get_server(NAME)
    assert caught.value.code == "unreachable"
    assert url in caught.value.detail
    assert isinstance(caught.value, RegistryClientError)


def test_a_failing_registry_and_a_body_that_is_not_a_problem_still_raise_typed_errors() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if "/boom/" in request.url.path:
            return httpx.Response(503, text="upstream connect error")
        if "/html/" in request.url.path:
            return httpx.Response(200, text="<html>a login page</html>")
        return httpx.Response(500, json={"code": "internal_error", "detail": "nothing was changed"})

    with Registry("http://registry.test", transport=httpx.MockTransport(answer)) as registry:
        with pytest.raises(ServerError) as failed:
            registry.get_server(NAME)
        assert (failed.value.code, failed.value.status) == ("internal_error", 500)
        with pytest.raises(ServerError) as plain:
            registry.get_server("io.github.acme/boom", version="1.0.0")
        with pytest.raises(RegistryClientError) as garbled:
            registry.get_server("io.github.acme/html")
    assert plain.value.code == "http_503"
    assert "upstream connect error" in plain.value.detail
    assert garbled.value.code == "invalid_response"


# -- async -----------------------------------------------------------------------------------------


def test_the_async_client_reads_pages_and_revalidates_like_the_sync_one(
    live: LiveServer, admin: Registry
) -> None:
    for i in range(3):
        admin.publish(server_doc(name=f"io.github.acme/server-{i}"))
    statuses = Statuses()

    async def scenario() -> tuple[list[str], str, str]:
        async with AsyncRegistry(
            live.url, cache_ttl=0, event_hooks={"response": [_async(statuses)]}
        ) as registry:
            names = [r.name async for r in registry.list_servers(page_size=2)]
            first = await registry.get_server("io.github.acme/server-1")
            second = await registry.get_server("io.github.acme/server-1")
            with pytest.raises(NotFound):
                await registry.get_server("io.github.nobody/nothing")
            return names, first.version, second.version

    names, first, second = asyncio.run(scenario())
    assert names == [f"io.github.acme/server-{i}" for i in range(3)]
    assert first == second == "1.0.0"
    assert statuses.seen[304] == 1


def _async(hook: Statuses) -> Any:
    async def record(response: httpx.Response) -> None:
        hook(response)

    return record
