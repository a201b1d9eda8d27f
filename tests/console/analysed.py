"""An analysed rollout with traffic, for the rollout panel's analysis tests (in process and in
chromium): 1.0.0 stable in production, 1.1.0 rolling out under two checks, traffic rows
written as the gateway's flusher writes them, and verdicts stored by the analysis pass itself
(``services.analysis.analyse``) at chosen instants."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.db.engine import unit_of_work
from mcpreg.db.types import utcnow
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import analysis
from mcpreg.services.deploy import deployments
from tests.console.operations import published
from tests.support.deploys import NAME
from tests.support.traffic import add_traffic

INTERVAL = 10
SETTLE = 6.0
ANALYSIS = {
    "interval": INTERVAL,
    "failureLimit": 1,
    "inconclusiveLimit": 2,
    "checks": [{"kind": "errorRate", "max": 0.05, "minRequests": 5}, {"kind": "p95", "maxSeconds": 0.5}],
}
FAST, SLOW = 3, 6  # latency buckets: (5 ms, 10 ms] and (50 ms, 100 ms]


def rolling(
    engine: sa.Engine,
    *,
    analysed: bool = True,
    start: datetime | None = None,
    interval: int = INTERVAL,
    **limits: int,
) -> datetime:
    """1.0.0 stable in production; 1.1.0 staged 10% then 50%, 10 minutes each, started at
    ``start`` (an hour ago: every interval long over), judged every ``interval`` seconds;
    ``limits`` override the analysis's ``failureLimit`` or ``inconclusiveLimit``. Returns
    when the rollout started."""
    published(engine)
    start = start or utcnow() - timedelta(hours=1)
    with unit_of_work(engine, write=True) as session:
        first = parse_deploy({"server": NAME, "version": "1.0.0"})
        deployments.deploy(session, SYSTEM, "production", first, now=start)
        body = {"server": NAME, "version": "1.1.0", "strategy": "staged", "steps": "10:10m,50:10m"}
        if analysed:
            body["analysis"] = {**ANALYSIS, "interval": interval, **limits}
        deployments.deploy(session, SYSTEM, "production", parse_deploy(body), now=start)
    return start


def served(
    engine: sa.Engine,
    version: str,
    start: datetime,
    seconds: int,
    *,
    ok: int,
    errors: int,
    bucket: int = FAST,
) -> None:
    """What the gateway's flusher writes for ``version``: one row per second and outcome."""
    with Session(engine) as session:
        where = {"server": NAME, "environment": "production", "bucket": bucket}
        add_traffic(session, version, start, seconds, ok=ok, errors=errors, **where)
        session.commit()


def judged(
    engine: sa.Engine, start: datetime, intervals: int, interval: int = INTERVAL
) -> list[analysis.Acted]:
    """Run the analysis pass as if ``intervals`` intervals of the step had ended and settled."""
    with unit_of_work(engine, write=True) as session:
        now = start + timedelta(seconds=intervals * interval + SETTLE)
        return analysis.analyse(session, now, settle=SETTLE)[1]


def three_intervals(engine: sa.Engine, start: datetime, interval: int = INTERVAL) -> None:
    """Interval 1 passes, 2 fails its error rate (1 request in 3 an error) and is slow, 3 passes."""
    served(engine, "1.0.0", start, 3 * interval, ok=20, errors=0)
    served(engine, "1.1.0", start, interval, ok=3, errors=0)
    served(engine, "1.1.0", start + timedelta(seconds=interval), interval, ok=2, errors=1, bucket=SLOW)
    served(engine, "1.1.0", start + timedelta(seconds=2 * interval), interval, ok=3, errors=0)
