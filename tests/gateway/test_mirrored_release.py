"""A mirrored release is deployable and routed through the gateway like a local one, and the
console's server page shows where it came from and how healthy it is (issues 14 and 13)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import health
from mcpreg.services.mirror import sync, upstreams
from tests.conftest import make_token
from tests.console.conftest import sign_in
from tests.support.gateway_clients import NAME, deploy, gateway_url, whoami_version
from tests.support.live import LiveServer
from tests.support.upstream_registry import BASE, FakeUpstream
from tests.support.upstreams import Upstream, remote_doc
from tests.support.upstreams import upstreams as mcp_upstreams


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Upstream]]:
    with mcp_upstreams("1.0.0") as started:
        yield started


def test_a_mirrored_release_is_deployed_served_through_the_gateway_and_shown_with_its_source(
    api: httpx.Client, live: LiveServer, engine: sa.Engine, running: dict[str, Upstream]
) -> None:
    keyring = runtime(live.app).keyring
    fake = FakeUpstream()
    fake.add(remote_doc("1.0.0", running["1.0.0"].url))
    with unit_of_work(engine, write=True) as session:
        _, given = upstreams.parse_input(
            {"name": "public", "url": BASE, "namespaces": ["io.github.acme/*"]}, creating=True
        )
        upstreams.create(session, keyring, SYSTEM, "public", given)
    with fake.client() as client:
        run = sync.sync(
            engine, keyring, client, SYSTEM, "public", sync.SyncOptions(holder="t", private_remotes=True)
        )
    assert run.added == 1
    runtime(live.app).cache.invalidate()

    deploy(api, "1.0.0")
    assert whoami_version(api, gateway_url(live), "someone") == "1.0.0"

    with unit_of_work(engine, write=True) as session:
        health.record(session, "production", NAME, "1.0.0", True)
    with httpx.Client(base_url=live.url, timeout=30) as console:
        sign_in(console, make_token(engine, "console-admin", ["admin"]), origin=live.url)
        page = console.get(f"/console/servers/{NAME}").text
    assert "Mirrored from <strong>public</strong>" in page
    assert "health-healthy" in page and "production" in page
