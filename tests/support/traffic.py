"""Synthetic gateway traffic: the rows the gateway's flusher writes, for tests of what reads them
(the canary analysis, alerts, gates held by an analysis, the console's charts)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from mcpreg.db.traffic_tables import TrafficAggregate
from mcpreg.domain.traffic import BUCKET_COUNT

CANARY = "1.1.0"  # the version the tests roll out; every other version is stable


def add_traffic(
    session: Session,
    version: str,
    start: datetime,
    seconds: int,
    *,
    ok: int,
    errors: int,
    server: str,
    environment: str,
    bucket: int = 3,
) -> None:
    """One row per second from ``start`` and outcome (``ok``, ``upstream_5xx``) with a count,
    each request in latency bucket ``bucket``, as replica ``r1`` flushes them."""
    for second in range(seconds):
        end = start + timedelta(seconds=second + 1)
        for outcome, count in (("ok", ok), ("upstream_5xx", errors)):
            if count:
                buckets = [0] * BUCKET_COUNT
                buckets[bucket] = count
                session.add(
                    TrafficAggregate(
                        replica="r1",
                        interval_start=end - timedelta(seconds=1),
                        interval_end=end,
                        server_name=server,
                        environment=environment,
                        version=version,
                        track="canary" if version == CANARY else "stable",
                        method="tools/call",
                        outcome=outcome,
                        requests=count,
                        seconds_sum=0.01 * count,
                        buckets=",".join(map(str, buckets)),
                    )
                )
