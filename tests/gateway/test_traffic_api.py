"""``GET /api/environments/{env}/servers/{name}/traffic``: two replicas flush, one answer sums them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas.traffic import TrafficReport
from mcpreg.gateway.metrics import GatewayMetrics, Observation
from mcpreg.settings import Settings
from tests.conftest import make_token, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.waiting import wait_until

NAME = "io.github.acme/weather"
TRAFFIC = f"/api/environments/dev/servers/{NAME}/traffic"


@pytest.fixture
def replicas(settings: Settings, engine: sa.Engine) -> Iterator[tuple[InProcess, InProcess]]:
    """Two replicas on one database, each flushing its aggregates every 50 ms."""
    fast = dataclasses.replace(settings, traffic_flush_interval=0.05)
    with InProcess(create_app(fast, engine)) as one, InProcess(create_app(fast, engine)) as two:
        yield one, two


@pytest.fixture
def admin(replicas: tuple[InProcess, InProcess], engine: sa.Engine) -> Iterator[httpx.Client]:
    with replicas[0].client(make_token(engine, "admin", ["admin"])) as client:
        assert client.post("/v0.1/publish", json=server_doc(NAME, "1.0.0")).status_code == 200
        assert client.post("/v0.1/publish", json=server_doc(NAME, "1.1.0")).status_code == 200
        yield client


def _observe(metrics: GatewayMetrics, version: str, outcome: str, seconds: float, n: int) -> None:
    track = "canary" if version == "1.1.0" else "stable"
    for _ in range(n):
        metrics.observe(Observation(NAME, "dev", version, track, "tools/call", outcome, seconds))


def test_the_traffic_of_both_replicas_is_summed_per_version(
    replicas: tuple[InProcess, InProcess], admin: httpx.Client
) -> None:
    one, two = (runtime(r.app).gateway_metrics for r in replicas)
    _observe(one, "1.0.0", "ok", 0.003, 30)
    _observe(two, "1.0.0", "ok", 0.003, 60)
    _observe(two, "1.0.0", "timeout", 5.0, 10)
    _observe(one, "1.1.0", "ok", 0.03, 8)
    _observe(one, "1.1.0", "jsonrpc_error", 0.03, 2)

    def summed() -> dict[str, Any] | None:
        body: dict[str, Any] = admin.get(TRAFFIC, params={"window": "1m"}).json()
        total = sum(v["requests"] for v in body["versions"])
        return body if total == 110 and body["replicas"] == 2 else None

    body = wait_until(summed, timeout=10, what="both replicas' traffic in the database")
    TrafficReport.model_validate(body)  # the OpenAPI document's model (no key beyond it)
    assert (body["window"], body["windowSeconds"], body["environment"]) == ("1m", 60, "dev")
    stable, canary = body["versions"]
    assert (stable["version"], stable["track"], stable["requests"], stable["errors"]) == (
        "1.0.0",
        "stable",
        100,
        10,
    )
    assert stable["outcomes"] == {"ok": 90, "timeout": 10}
    assert stable["errorRate"] == 0.1 and stable["requestRate"] == pytest.approx(100 / 60, abs=1e-5)
    assert 0.0025 < stable["latencySeconds"]["p50"] <= 0.005
    assert 2.5 < stable["latencySeconds"]["p99"] <= 5.0
    assert (canary["version"], canary["track"], canary["requests"]) == ("1.1.0", "canary", 10)
    assert canary["outcomes"] == {"jsonrpc_error": 2, "ok": 8} and canary["errorRate"] == 0.2


def test_a_replica_that_stops_writes_its_last_counts(settings: Settings, engine: sa.Engine) -> None:
    slow = dataclasses.replace(settings, traffic_flush_interval=3600)  # no pass would come in time
    token = make_token(engine, "admin", ["admin"])
    with InProcess(create_app(slow, engine)) as replica, replica.client(token) as client:
        assert client.post("/v0.1/publish", json=server_doc(NAME, "1.0.0")).status_code == 200
        _observe(runtime(replica.app).gateway_metrics, "1.0.0", "ok", 0.01, 5)
    with InProcess(create_app(slow, engine)) as other, other.client(token) as client:
        versions = client.get(TRAFFIC).json()["versions"]
    assert [(v["version"], v["requests"]) for v in versions] == [("1.0.0", 5)]


def test_a_bad_window_is_a_400_and_an_unknown_environment_or_server_a_404(admin: httpx.Client) -> None:
    for window in ("5", "0m", "25h", "5min", "-1s", "1.5m"):
        assert_problem(admin.get(TRAFFIC, params={"window": window}), 400, "invalid_window", "window")
    assert_problem(admin.get(f"/api/environments/moon/servers/{NAME}/traffic"), 404, "environment_not_found")
    assert_problem(
        admin.get("/api/environments/dev/servers/io.github.acme/none/traffic"), 404, "server_not_found"
    )


def test_traffic_needs_read_access_to_the_server_and_environment(
    replicas: tuple[InProcess, InProcess], admin: httpx.Client, engine: sa.Engine
) -> None:
    elsewhere = make_token(engine, "other-ns", ["read"], namespaces=["io.github.other/*"])
    prod_only = make_token(engine, "prod-only", ["read"], environments=["production"])
    reader = make_token(engine, "reader", ["read"], namespaces=["io.github.acme/*"])
    with (
        replicas[1].client() as anon,
        replicas[1].client(elsewhere) as other,
        replicas[1].client(prod_only) as prod,
    ):
        assert_problem(anon.get(TRAFFIC), 401, "unauthenticated")
        assert_problem(other.get(TRAFFIC), 403, "namespace_denied")
        assert_problem(prod.get(TRAFFIC), 403, "environment_denied")
    with replicas[1].client(reader) as ok:
        answer = ok.get(TRAFFIC)
    assert answer.status_code == 200 and answer.json()["versions"] == []
