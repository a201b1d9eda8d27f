"""Traffic aggregates in the database: each replica flushes its intervals, a report sums them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mcpreg.api.schemas.traffic import TrafficReport
from mcpreg.db.traffic_tables import TrafficAggregate
from mcpreg.db.types import utcnow
from mcpreg.errors import RegistryError
from mcpreg.gateway.metrics import GatewayMetrics, Observation
from mcpreg.gateway.traffic import TrafficFlusher
from mcpreg.services import traffic
from tests.support.deploys import NAME, prepare

ENV = "production"


def _observe(metrics: GatewayMetrics, version: str, outcome: str, seconds: float, n: int = 1) -> None:
    track = "canary" if version == "1.1.0" else "stable"
    for _ in range(n):
        metrics.observe(Observation(NAME, ENV, version, track, "tools/call", outcome, seconds))


def _report(session: Session, window: int = 300, now: datetime | None = None) -> traffic.TrafficReport:
    return traffic.version_traffic(session, ENV, NAME, f"{window}s", window, now=now or utcnow())


def _rows(engine: sa.Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(TrafficAggregate)).one())


def test_two_replicas_flush_and_the_report_sums_them_per_version(engine: sa.Engine, session: Session) -> None:
    prepare(session, versions=("1.0.0", "1.1.0"))
    one, two = GatewayMetrics(replica="replica-1"), GatewayMetrics(replica="replica-2")
    _observe(one, "1.0.0", "ok", 0.003, n=40)
    _observe(two, "1.0.0", "ok", 0.003, n=50)
    _observe(two, "1.0.0", "upstream_5xx", 0.2, n=10)
    _observe(one, "1.1.0", "ok", 0.02, n=6)
    _observe(two, "1.1.0", "tool_error", 0.02, n=4)
    assert TrafficFlusher(engine, one).flush() == 2
    assert TrafficFlusher(engine, two).flush() == 3

    report = _report(session, window=60)
    assert report.replicas == 2
    stable, canary = report.versions
    assert (stable.version, stable.track, stable.requests, stable.errors) == ("1.0.0", "stable", 100, 10)
    assert stable.outcomes == {"ok": 90, "upstream_5xx": 10}
    assert stable.error_rate == pytest.approx(0.1)
    assert stable.request_rate == pytest.approx(100 / 60)
    assert stable.latency(0.5) is not None and 0.0025 < stable.latency(0.5) <= 0.005  # type: ignore[operator]
    assert 0.1 < stable.latency(0.99) <= 0.25  # type: ignore[operator]
    assert (canary.version, canary.track, canary.requests, canary.errors) == ("1.1.0", "canary", 10, 4)
    assert canary.outcomes == {"ok": 6, "tool_error": 4}

    body = TrafficReport.of(report).model_dump(mode="json")
    assert body["windowSeconds"] == 60 and body["replicas"] == 2
    first = body["versions"][0]  # type: ignore[index]
    assert first["requests"] == 100 and first["errorRate"] == 0.1
    assert set(first["latencySeconds"]) == {"p50", "p95", "p99", "mean"}


def test_a_flush_with_nothing_counted_writes_nothing(engine: sa.Engine, session: Session) -> None:
    prepare(session, versions=("1.0.0",))
    assert TrafficFlusher(engine, GatewayMetrics()).flush() == 0
    assert _rows(engine) == 0
    assert _report(session).versions == []


def test_intervals_that_ended_before_the_window_are_not_counted(engine: sa.Engine, session: Session) -> None:
    prepare(session, versions=("1.0.0",))
    now = utcnow()
    times = iter([now - timedelta(minutes=10), now - timedelta(minutes=9)])
    old = GatewayMetrics(replica="old", clock=lambda: next(times))
    _observe(old, "1.0.0", "ok", 0.003, n=7)
    recent = GatewayMetrics(replica="recent")
    _observe(recent, "1.0.0", "ok", 0.003, n=3)
    TrafficFlusher(engine, old).flush()
    TrafficFlusher(engine, recent).flush()
    assert [v.requests for v in _report(session, window=300, now=now + timedelta(seconds=1)).versions] == [3]
    assert [v.requests for v in _report(session, window=900, now=now + timedelta(seconds=1)).versions] == [10]


def test_rows_older_than_a_day_are_pruned_and_newer_ones_kept(engine: sa.Engine, session: Session) -> None:
    prepare(session, versions=("1.0.0",))
    now = utcnow()
    times = iter([now - timedelta(hours=25, seconds=5), now - timedelta(hours=25)])
    ancient = GatewayMetrics(replica="ancient", clock=lambda: next(times))
    _observe(ancient, "1.0.0", "ok", 0.003)
    traffic.record(session, ancient.replica, ancient.drain())
    session.commit()
    assert _rows(engine) == 1
    fresh = GatewayMetrics(replica="fresh")
    _observe(fresh, "1.0.0", "ok", 0.003)
    TrafficFlusher(engine, fresh).flush()  # its first flush prunes
    with Session(engine) as check:
        assert [row.replica for row in check.exec(select(TrafficAggregate))] == ["fresh"]


def test_a_failed_write_keeps_the_interval_for_the_next_flush(engine: sa.Engine, session: Session) -> None:
    prepare(session, versions=("1.0.0",))
    metrics = GatewayMetrics()
    _observe(metrics, "1.0.0", "ok", 0.003, n=2)
    broken = sa.create_engine("sqlite:////nonexistent-dir/for/sure/x.db")
    with pytest.raises(sa.exc.OperationalError):
        TrafficFlusher(broken, metrics).flush()
    broken.dispose()
    _observe(metrics, "1.0.0", "ok", 0.003)
    TrafficFlusher(engine, metrics).flush()
    assert [v.requests for v in _report(session).versions] == [3]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (
            lambda s: traffic.version_traffic(s, "nowhere", NAME, "5m", 300, now=utcnow()),
            "environment_not_found",
        ),
        (
            lambda s: traffic.version_traffic(s, ENV, "io.example/none", "5m", 300, now=utcnow()),
            "server_not_found",
        ),
    ],
)
def test_a_report_on_an_unknown_environment_or_server_is_refused(
    session: Session, call: Callable[[Session], object], code: str
) -> None:
    prepare(session, versions=("1.0.0",))
    with pytest.raises(RegistryError) as caught:
        call(session)
    assert caught.value.code == code


def test_the_report_times_are_the_window_asked_about() -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    report = traffic.TrafficReport(NAME, ENV, "5m", 300, now - timedelta(minutes=5), now, 0, [])
    assert TrafficReport.of(report).model_dump(mode="json")["since"] == "2026-12-01T09:55:00Z"


def test_hour_old_rows_of_a_replica_are_merged_by_minute_and_keep_their_sums(
    engine: sa.Engine, session: Session
) -> None:
    prepare(session, versions=("1.0.0",))
    now = utcnow().replace(second=30, microsecond=0)
    minute = now - timedelta(minutes=65, seconds=30)  # a whole minute, 65 minutes ago
    ticks = [minute + timedelta(seconds=5 * i - 5) for i in range(13)]  # twelve 5 s intervals end in it
    ours = GatewayMetrics(replica="ours", clock=lambda: ticks.pop(0))
    theirs = GatewayMetrics(replica="theirs", clock=lambda: minute)
    for _ in range(12):
        _observe(ours, "1.0.0", "ok", 0.003, n=2)
        traffic.record(session, ours.replica, ours.drain())
    _observe(theirs, "1.0.0", "ok", 0.2, n=5)
    traffic.record(session, theirs.replica, theirs.drain())
    recent = GatewayMetrics(replica="ours")
    _observe(recent, "1.0.0", "ok", 0.003)
    traffic.record(session, recent.replica, recent.drain())  # this minute: not merged
    session.commit()
    before = _report(session, window=7200, now=now).versions[0]
    assert _rows(engine) == 14

    assert traffic.compactable(session, "ours", now)
    assert traffic.compact(session, "ours", now) == 11
    session.commit()
    assert not traffic.compactable(session, "ours", now)
    assert traffic.compact(session, "ours", now) == 0  # a second pass changes nothing
    with Session(engine) as check:
        rows = check.exec(select(TrafficAggregate).order_by(col(TrafficAggregate.id))).all()
    assert [(r.replica, r.requests) for r in rows] == [("ours", 24), ("theirs", 5), ("ours", 1)]
    merged = rows[0]
    assert merged.interval_start == minute - timedelta(seconds=5)
    assert merged.interval_end == minute + timedelta(seconds=55)
    after = _report(session, window=7200, now=now).versions[0]
    assert (after.requests, after.buckets, after.seconds_sum) == (
        before.requests,
        before.buckets,
        pytest.approx(before.seconds_sum),
    )
