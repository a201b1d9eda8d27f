"""``traffic.summed_each`` on both backends: each span's sums from one read are exactly what
``traffic.summed`` answers for that span alone (overlapping, touching, empty and out-of-order
spans included; an interval counts in a span when it ended in (since, until])."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.db.traffic_tables import TrafficAggregate
from mcpreg.domain.traffic import BUCKET_COUNT
from mcpreg.services import traffic

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
NAME = "io.github.acme/weather"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_each_span_sums_as_summed_does_for_it_alone(engine: sa.Engine) -> None:
    with Session(engine) as session:
        for second in range(60):
            for replica, version, track, outcome in (
                ("r1", "1.0.0", "stable", "ok"),
                ("r2", "1.1.0", "canary", "ok" if second % 7 else "upstream_5xx"),
                ("r1", "1.1.0", "canary", "ok"),
            ):
                buckets = [0] * BUCKET_COUNT
                buckets[second % BUCKET_COUNT] = 1 + second % 3
                session.add(
                    TrafficAggregate(
                        replica=replica,
                        interval_start=at(second),
                        interval_end=at(second + 1),
                        server_name=NAME,
                        environment="production",
                        version=version,
                        track=track,
                        method="tools/call",
                        outcome=outcome,
                        requests=1 + second % 3,
                        seconds_sum=0.01 * second,
                        buckets=",".join(map(str, buckets)),
                    )
                )
        session.commit()
        spans = [
            (at(0), at(10)),
            (at(10), at(20)),
            (at(5), at(25)),
            (at(40), at(40)),
            (at(50), at(90)),
            (at(30), at(31)),
        ]
        each = traffic.summed_each(session, "production", NAME, spans)
        alone = [traffic.summed(session, "production", NAME, since, until) for since, until in spans]
        assert each == alone
        assert each[3] == ({}, 0) and each[0][0]["1.1.0"].track == "canary" and each[0][1] == 2
        assert traffic.summed_each(session, "production", NAME, []) == []
