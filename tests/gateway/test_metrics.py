"""GatewayMetrics: what observe counts, in Prometheus series and in the open interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from mcpreg.domain.traffic import TrafficKey, bucket_index
from mcpreg.gateway.metrics import GatewayMetrics, Observation

S, E = "io.example/weather", "production"


def _seen(metrics: GatewayMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _obs(
    version: str = "1.0.0",
    outcome: str = "ok",
    seconds: float = 0.003,
    *,
    track: str = "stable",
    method: str = "tools/call",
) -> Observation:
    return Observation(S, E, version, track, method, outcome, seconds)


def test_each_request_is_counted_by_version_track_method_and_outcome() -> None:
    metrics = GatewayMetrics()
    for _ in range(3):
        metrics.observe(_obs())
    metrics.observe(_obs("1.1.0", "tool_error", 0.02, track="canary"))
    seen = _seen(metrics)
    labels = {"server": S, "environment": E, "version": "1.0.0", "track": "stable", "method": "tools/call"}
    ok = tuple(sorted((labels | {"outcome": "ok"}).items()))
    assert seen[("mcpreg_gateway_requests_total", ok)] == 3
    canary = labels | {"version": "1.1.0", "track": "canary", "outcome": "tool_error"}
    assert seen[("mcpreg_gateway_requests_total", tuple(sorted(canary.items())))] == 1
    assert ("mcpreg_gateway_requests_total", tuple(sorted((canary | {"outcome": "ok"}).items()))) not in seen
    count = tuple(sorted(labels.items()))
    assert seen[("mcpreg_gateway_request_duration_seconds_count", count)] == 3
    assert seen[("mcpreg_gateway_request_duration_seconds_sum", count)] == pytest.approx(0.009)
    le = tuple(sorted((labels | {"le": "0.0025"}).items()))
    assert seen[("mcpreg_gateway_request_duration_seconds_bucket", le)] == 0
    le = tuple(sorted((labels | {"le": "0.005"}).items()))
    assert seen[("mcpreg_gateway_request_duration_seconds_bucket", le)] == 3


def test_an_unknown_outcome_is_refused_and_an_unknown_method_is_other() -> None:
    metrics = GatewayMetrics()
    with pytest.raises(ValueError, match="outcome"):
        metrics.observe(_obs(outcome="fine"))
    metrics.observe(_obs(method="made/up"))
    assert [key.method for key in metrics.drain().tallies] == ["other"]


def test_two_apps_in_one_process_keep_their_own_counts() -> None:
    one, two = GatewayMetrics(), GatewayMetrics()
    one.observe(_obs())
    assert any(name == "mcpreg_gateway_requests_total" for name, _ in _seen(one))
    assert not any(name == "mcpreg_gateway_requests_total" for name, _ in _seen(two))
    assert one.replica != two.replica


def test_drain_hands_over_the_interval_and_opens_an_empty_one() -> None:
    clock = iter(datetime(2026, 12, 1, 10, 0, s, tzinfo=UTC) for s in range(0, 60, 5))
    metrics = GatewayMetrics(replica="r1", clock=lambda: next(clock))
    metrics.observe(_obs(seconds=0.003))
    metrics.observe(_obs(seconds=0.2))
    metrics.observe(_obs(outcome="timeout", seconds=30.0))
    interval = metrics.drain()
    assert (interval.start.second, interval.end.second) == (0, 5)
    ok = interval.tallies[TrafficKey(S, E, "1.0.0", "stable", "tools/call", "ok")]
    assert (ok.requests, ok.seconds_sum) == (2, pytest.approx(0.203))
    assert (
        ok.buckets[bucket_index(0.003)] == 1 and ok.buckets[bucket_index(0.2)] == 1 and sum(ok.buckets) == 2
    )
    assert interval.tallies[TrafficKey(S, E, "1.0.0", "stable", "tools/call", "timeout")].requests == 1
    empty = metrics.drain()
    assert empty.tallies == {} and empty.start == interval.end


def test_an_interval_put_back_is_merged_into_the_next_one() -> None:
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    times = iter([start, start + timedelta(seconds=5), start + timedelta(seconds=10)])
    metrics = GatewayMetrics(clock=lambda: next(times))
    metrics.observe(_obs())
    failed = metrics.drain()  # its write failed
    metrics.observe(_obs())
    metrics.observe(_obs("1.1.0"))
    metrics.restore(failed)
    merged = metrics.drain()
    assert merged.start == start
    assert merged.tallies[TrafficKey(S, E, "1.0.0", "stable", "tools/call", "ok")].requests == 2
    assert merged.tallies[TrafficKey(S, E, "1.1.0", "stable", "tools/call", "ok")].requests == 1
