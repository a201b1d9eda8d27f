"""``GET /metrics``: who may scrape it, and that its counters match the requests sent."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.api.runtime import runtime
from mcpreg.gateway.metrics import Observation
from mcpreg.settings import Settings
from tests.conftest import make_token, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.prometheus import samples, value


@pytest.fixture
def scrape_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, metrics_token="scrape-secret-1234")


@pytest.fixture
def server(scrape_settings: Settings, engine: sa.Engine) -> Iterator[InProcess]:
    with InProcess(create_app(scrape_settings, engine)) as running:
        yield running


def test_only_an_admin_or_the_scrape_token_may_read_the_metrics(server: InProcess, engine: sa.Engine) -> None:
    reader = make_token(engine, "reader", ["read"])
    with (
        server.client() as anon,
        server.client(reader) as read,
        server.client("scrape-secret-1234") as scrape,
    ):
        assert_problem(anon.get("/metrics"), 401, "unauthenticated")
        assert_problem(read.get("/metrics"), 403, "permission_denied")
        assert_problem(
            anon.get("/metrics", headers={"Authorization": "Bearer scrape-secret-12345"}),
            401,
            "unauthenticated",
        )
        assert anon.get("/metrics", headers={"Authorization": "bearer scrape-secret-1234"}).status_code == 200
        answer = scrape.get("/metrics")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("text/plain; version=")
        assert "scrape-secret" not in answer.text


def test_with_metrics_public_anyone_may_scrape(settings: Settings, engine: sa.Engine) -> None:
    public = dataclasses.replace(settings, metrics_public=True)
    with InProcess(create_app(public, engine)) as running, running.client() as anon:
        assert anon.get("/metrics").status_code == 200


def test_the_counters_match_the_requests_sent(server: InProcess, engine: sa.Engine) -> None:
    admin = make_token(engine, "admin", ["admin"])
    name = "io.github.acme/weather"
    with server.client(admin) as api, server.client() as anon, server.client("scrape-secret-1234") as scrape:
        for _ in range(3):
            assert anon.get("/v0.1/health").status_code == 200
        assert anon.get("/v0.1/nowhere").status_code == 404
        assert api.post("/v0.1/publish", json=server_doc(name, "1.0.0")).status_code == 200
        latest = f"/v0.1/servers/{name.replace('/', '%2F')}/versions/latest"
        for _ in range(4):
            assert anon.get(latest).status_code == 200
        deployed = api.post("/api/environments/dev/deployments", json={"server": name, "version": "1.0.0"})
        assert deployed.status_code == 201, deployed.text
        rt = runtime(server.app)
        hits, misses = rt.cache.hits, rt.cache.misses
        gateway = rt.gateway_metrics
        for outcome in ("ok", "ok", "tool_error"):
            gateway.observe(Observation(name, "dev", "1.0.0", "stable", "tools/call", outcome, 0.004))

        seen = samples(scrape.get("/metrics").text)

    health = {"method": "GET", "route": "/v0.1/health", "status": "200"}
    assert value(seen, "mcpreg_http_requests_total", **health) == 3
    assert value(seen, "mcpreg_http_requests_total", method="GET", route="", status="404") == 1
    assert value(seen, "mcpreg_http_requests_total", method="POST", route="/v0.1/publish", status="200") == 1
    assert value(seen, "mcpreg_http_request_duration_seconds_count", method="GET", route="/v0.1/health") == 3
    assert value(seen, "mcpreg_cache_hits_total") == hits and hits >= 3  # the latest answer, from memory
    assert value(seen, "mcpreg_cache_misses_total") == misses
    assert value(seen, "mcpreg_deployment_events_total", environment="dev", action="deploy") == 1
    labels = {
        "server": name,
        "environment": "dev",
        "version": "1.0.0",
        "track": "stable",
        "method": "tools/call",
    }
    assert value(seen, "mcpreg_gateway_requests_total", **labels, outcome="ok") == 2
    assert value(seen, "mcpreg_gateway_requests_total", **labels, outcome="tool_error") == 1
    assert value(seen, "mcpreg_gateway_request_duration_seconds_count", **labels) == 3


def test_a_scrape_is_not_cached_and_counts_itself_only_afterwards(server: InProcess) -> None:
    with server.client("scrape-secret-1234") as scrape:
        first = scrape.get("/metrics")
        assert first.headers["cache-control"] == "no-store"
        second = samples(scrape.get("/metrics").text)
    assert value(second, "mcpreg_http_requests_total", method="GET", route="/metrics", status="200") == 1


def test_two_apps_in_one_process_count_apart(settings: Settings, engine: sa.Engine) -> None:
    public = dataclasses.replace(settings, metrics_public=True)
    health = {"method": "GET", "route": "/v0.1/health", "status": "200"}
    with (
        InProcess(create_app(public, engine)) as one,
        InProcess(create_app(public, engine)) as two,
        one.client() as a,
        two.client() as b,
    ):
        a.get("/v0.1/health")
        a.get("/v0.1/health")
        b.get("/v0.1/health")
        assert value(samples(a.get("/metrics").text), "mcpreg_http_requests_total", **health) == 2
        assert value(samples(b.get("/metrics").text), "mcpreg_http_requests_total", **health) == 1
