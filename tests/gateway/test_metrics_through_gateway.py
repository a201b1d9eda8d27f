"""End to end: real MCP requests through two replicas' gateways; ``/metrics`` counts exactly what
each replica proxied, and ``/traffic`` sums both replicas per version."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.settings import Settings
from tests.conftest import make_token
from tests.support.gateway_clients import (
    ENV,
    NAME,
    TARGET,
    call,
    deploy,
    gateway_url,
    legacy_session,
    release,
)
from tests.support.live import LiveServer
from tests.support.prometheus import samples, value
from tests.support.upstreams import Upstream, answer_of, upstreams
from tests.support.waiting import wait_until


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Upstream]]:
    with upstreams() as started:
        yield started


@pytest.fixture
def pair(settings: Settings, engine: sa.Engine) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two replicas on one database, each flushing its traffic every 50 ms."""
    fast = dataclasses.replace(settings, traffic_flush_interval=0.05)
    with (
        LiveServer(create_app(fast, engine)) as one,
        LiveServer(create_app(fast, engine, prepare=False)) as two,
    ):
        yield one, two


def test_metrics_and_traffic_count_what_the_gateways_proxied(
    pair: tuple[LiveServer, LiveServer], engine: sa.Engine, running: dict[str, Upstream]
) -> None:
    token = make_token(engine, "admin", ["admin"])
    sent: dict[int, Counter[tuple[str, str]]] = {0: Counter(), 1: Counter()}  # replica -> (version, outcome)
    with httpx.Client(base_url=pair[0].url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        release(api, running, "1.0.0", "1.1.0")
        deploy(api, "1.0.0")
        deploy(api, "1.1.0", strategy="canary", weight=50)
        for i in range(24):
            replica, client, tool = i % 2, f"client-{i}", "fail" if i % 4 == 3 else "whoami"
            version = api.get(f"{TARGET}/resolve", params={"client": client}).json()["version"]
            answer = call(api, gateway_url(pair[replica]), tool, key=client)
            assert answer.status_code == 200, answer.text
            assert answer_of(answer)["result"].get("isError", False) is (tool == "fail")
            sent[replica][(version, "tool_error" if tool == "fail" else "ok")] += 1
        assert {v for c in sent.values() for v, _ in c} == {"1.0.0", "1.1.0"}  # both versions got traffic
        with legacy_session(gateway_url(pair[1]), f"Bearer {token}", "legacy-1") as session:
            legacy_version = session.version()
        legacy = api.get(f"{TARGET}/resolve", params={"client": "legacy-1"}).json()

        for replica, counts in sent.items():
            seen = samples(api.get(f"{pair[replica].url}/metrics").text)
            for (version, outcome), count in counts.items():
                track = "canary" if version == "1.1.0" else "stable"
                labels = {"server": NAME, "environment": ENV, "version": version, "track": track}
                extra = (
                    1 if (replica, version, outcome) == (1, legacy_version, "ok") else 0
                )  # the legacy call
                requests = value(
                    seen, "mcpreg_gateway_requests_total", **labels, method="tools/call", outcome=outcome
                )
                assert requests == count + extra, (replica, version, outcome)
        seen = samples(api.get(f"{pair[1].url}/metrics").text)
        track = legacy["track"]
        legacy_labels = {"server": NAME, "environment": ENV, "version": legacy_version, "track": track}
        assert (
            value(seen, "mcpreg_gateway_requests_total", **legacy_labels, method="initialize", outcome="ok")
            == 1
        )
        assert legacy["version"] == legacy_version

        # every request either replica counted (initialize, notifications, the session's GET and
        # DELETE included), per version: what /traffic must come to once both have flushed
        expected: Counter[str] = Counter()
        for replica in pair:
            for (name, labels), count in samples(api.get(f"{replica.url}/metrics").text).items():
                if name == "mcpreg_gateway_requests_total":
                    expected[dict(labels)["version"]] += int(count)

        def summed() -> dict[str, Any] | None:
            body: dict[str, Any] = api.get(f"{TARGET}/traffic", params={"window": "5m"}).json()
            found = {v["version"]: v["requests"] for v in body["versions"]}
            return body if body["replicas"] == 2 and found == dict(expected) else None

        body = wait_until(summed, timeout=10, what="both replicas' gateway traffic in /traffic")
    tool_errors = sum(
        c for counts in sent.values() for (_, outcome), c in counts.items() if outcome == "tool_error"
    )
    assert sum(v["outcomes"].get("tool_error", 0) for v in body["versions"]) == tool_errors
    assert all(v["latencySeconds"]["p50"] is not None for v in body["versions"])
