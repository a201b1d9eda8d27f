"""Gateway traffic over the database: each replica's intervals written, every replica's read.

``record`` writes one drained interval of this replica (``gateway.metrics``) as one
``traffic_aggregate`` row per key; ``prune`` deletes what no window can reach any more;
``version_traffic`` sums, per version, the rows of every replica whose interval ended in
the window. Writing traffic is not a change: it moves no change generation and is not
journalled (it would otherwise empty every replica's cache every few seconds).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.traffic_tables import TrafficAggregate
from mcpreg.domain.traffic import (
    BUCKET_COUNT,
    MAX_WINDOW_SECONDS,
    Interval,
    VersionTraffic,
    add_buckets,
)
from mcpreg.services import environments, releases

QUANTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))


def record(session: Session, replica: str, interval: Interval) -> int:
    """Write ``interval``'s tallies as this replica's rows; returns how many rows."""
    rows = [
        TrafficAggregate(
            replica=replica,
            interval_start=interval.start,
            interval_end=interval.end,
            server_name=key.server,
            environment=key.environment,
            version=key.version,
            track=key.track,
            method=key.method,
            outcome=key.outcome,
            requests=tally.requests,
            seconds_sum=tally.seconds_sum,
            buckets=",".join(str(count) for count in tally.buckets),
        )
        for key, tally in interval.tallies.items()
        if tally.requests
    ]
    session.add_all(rows)
    return len(rows)


def _cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=MAX_WINDOW_SECONDS)


def expired(session: Session, now: datetime) -> bool:
    """Whether any row ended before the longest window (what ``prune`` would delete)."""
    query = select(TrafficAggregate.id).where(col(TrafficAggregate.interval_end) < _cutoff(now)).limit(1)
    return session.exec(query).first() is not None


def prune(session: Session, now: datetime) -> int:
    """Delete the rows that ended before the longest window; returns how many."""
    cutoff = _cutoff(now)
    result = session.execute(sa.delete(TrafficAggregate).where(col(TrafficAggregate.interval_end) < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


COMPACT_AFTER = timedelta(hours=1)
"""Rows older than this are merged into one row per key and minute (``compact``)."""
COMPACT_BAND = timedelta(minutes=10)
"""How far before ``COMPACT_AFTER`` a pass looks: a pass a minute, each minute seen ten times."""


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def _mergeable(rows: list[TrafficAggregate]) -> list[list[TrafficAggregate]]:
    groups: dict[tuple[object, ...], list[TrafficAggregate]] = {}
    for row in rows:
        key = (row.server_name, row.environment, row.version, row.track, row.method, row.outcome)
        groups.setdefault((*key, _minute(row.interval_end)), []).append(row)
    return [group for group in groups.values() if len(group) > 1]


def _band(session: Session, replica: str, now: datetime) -> list[TrafficAggregate]:
    upper = now - COMPACT_AFTER
    query = select(TrafficAggregate).where(
        TrafficAggregate.replica == replica,
        col(TrafficAggregate.interval_end) >= upper - COMPACT_BAND,
        col(TrafficAggregate.interval_end) < upper,
    )
    return list(session.exec(query.order_by(col(TrafficAggregate.id))).all())


def compactable(session: Session, replica: str, now: datetime) -> bool:
    """Whether ``compact`` would merge anything (a read, so an idle replica writes nothing)."""
    return bool(_mergeable(_band(session, replica, now)))


def compact(session: Session, replica: str, now: datetime) -> int:
    """Merge ``replica``'s rows that ended 60 to 70 minutes before ``now`` into one row per key
    and minute (sums kept; the interval widened); returns how many rows went.

    Only a replica's own rows, so replicas never write the same rows. A window reaching past
    an hour ago then ends on a minute, not on a flush, and the table keeps about 2,100 rows
    a day per busy key and replica instead of 17,280.
    """
    removed = 0
    for first, *rest in _mergeable(_band(session, replica, now)):
        buckets = _buckets(first.buckets)
        for row in rest:
            first.interval_start = min(first.interval_start, row.interval_start)
            first.interval_end = max(first.interval_end, row.interval_end)
            first.requests += row.requests
            first.seconds_sum += row.seconds_sum
            buckets = add_buckets(buckets, _buckets(row.buckets))
            session.delete(row)
            removed += 1
        first.buckets = ",".join(str(count) for count in buckets)
        session.add(first)
    return removed


def _buckets(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part]
    return counts if len(counts) == BUCKET_COUNT else add_buckets(counts, [0] * BUCKET_COUNT)


@dataclass(frozen=True)
class TrafficReport:
    """One server's traffic in one environment over a window, per version."""

    server: str
    environment: str
    window: str
    window_seconds: int
    since: datetime
    until: datetime
    replicas: int
    versions: list[VersionTraffic]


def version_traffic(
    session: Session, environment: str, server: str, window: str, window_seconds: int, *, now: datetime
) -> TrafficReport:
    """Per version, what every replica's gateway proxied of ``server`` in ``environment`` in
    the ``window_seconds`` before ``now`` (an interval counts when it ended in the window).

    Versions come stable first, then by most requests; a version seen on both tracks in the
    window (a promoted canary) is reported under the track it had last.
    """
    env = environments.get_environment(session, environment)
    found = releases.get_server(session, server)
    since = now - timedelta(seconds=window_seconds)
    totals, replicas = summed(session, env.name, found.name, since, now)
    versions = [
        VersionTraffic(
            version=version,
            track=total.track,
            requests=total.requests,
            outcomes=total.outcomes,
            seconds_sum=total.seconds_sum,
            buckets=total.buckets,
            window_seconds=window_seconds,
        )
        for version, total in totals.items()
    ]
    versions.sort(key=lambda v: (v.track != "stable", -v.requests, v.version))
    return TrafficReport(found.name, env.name, window, window_seconds, since, now, replicas, versions)


def _rows(
    session: Session, environment: str, server: str, since: datetime, until: datetime
) -> list[TrafficAggregate]:
    """Every replica's rows of ``server`` in ``environment`` that ended in (since, until], oldest first."""
    return list(
        session.exec(
            select(TrafficAggregate)
            .where(
                TrafficAggregate.environment == environment,
                TrafficAggregate.server_name == server,
                col(TrafficAggregate.interval_end) > since,
                col(TrafficAggregate.interval_end) <= until,
            )
            .order_by(col(TrafficAggregate.interval_end))
        ).all()
    )


def _sum(rows: Sequence[TrafficAggregate]) -> tuple[dict[str, Sum], int]:
    totals: dict[str, Sum] = {}
    replicas: set[str] = set()
    for row in rows:
        replicas.add(row.replica)
        total = totals.setdefault(row.version, Sum())
        total.track = row.track  # ordered by interval end: the last one wins
        total.requests += row.requests
        total.seconds_sum += row.seconds_sum
        total.outcomes[row.outcome] = total.outcomes.get(row.outcome, 0) + row.requests
        total.buckets = add_buckets(total.buckets, _buckets(row.buckets))
    return totals, len(replicas)


def summed(
    session: Session, environment: str, server: str, since: datetime, until: datetime
) -> tuple[dict[str, Sum], int]:
    """Every replica's aggregates of ``server`` in ``environment`` whose interval ended in
    (``since``, ``until``], summed per version (the track it had last), and how many replicas
    reported. The one reading of the aggregates, for ``/traffic`` and the canary analysis."""
    return _sum(_rows(session, environment, server, since, until))


def summed_each(
    session: Session, environment: str, server: str, spans: Sequence[tuple[datetime, datetime]]
) -> list[tuple[dict[str, Sum], int]]:
    """``summed`` of each span (since, until], from one read of the rows they cover (the
    console's analysis panel: every judged interval at once, not one query each)."""
    if not spans:
        return []
    rows = _rows(session, environment, server, min(s for s, _ in spans), max(u for _, u in spans))
    ends = [row.interval_end for row in rows]
    return [_sum(rows[bisect_right(ends, since) : bisect_right(ends, until)]) for since, until in spans]


def error_counts(
    session: Session, environment: str, servers: list[str], since: datetime, until: datetime
) -> dict[tuple[str, str], tuple[int, int]]:
    """(requests, errors) per (server, version) of ``servers`` in ``environment`` whose interval
    ended in (``since``, ``until``], every replica's rows summed in SQL: what an error-rate
    alert needs, without reading each row and its latency buckets as ``summed`` does."""
    if not servers:
        return {}
    ok = sa.func.sum(
        sa.case((col(TrafficAggregate.outcome) == "ok", col(TrafficAggregate.requests)), else_=0)
    )
    rows = session.execute(
        sa.select(
            col(TrafficAggregate.server_name),
            col(TrafficAggregate.version),
            sa.func.sum(col(TrafficAggregate.requests)),
            ok,
        )
        .where(
            col(TrafficAggregate.environment) == environment,
            col(TrafficAggregate.server_name).in_(servers),
            col(TrafficAggregate.interval_end) > since,
            col(TrafficAggregate.interval_end) <= until,
        )
        .group_by(col(TrafficAggregate.server_name), col(TrafficAggregate.version))
    ).all()
    return {(server, version): (int(total), int(total) - int(good)) for server, version, total, good in rows}


@dataclass
class Sum:
    """One version's aggregates summed over a window."""

    track: str = "stable"
    requests: int = 0
    seconds_sum: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)
