"""The gateway's use of health: an unhealthy canary's clients are sent to stable.

The versions the prober holds unhealthy are read once per change (a health change is a
change: ``services.health``), into ``Runtime.unhealthy``. Only a canary is bypassed: when
stable is unhealthy and the canary healthy, nothing moves by itself (the health endpoint
and ``mcpreg health`` report it).
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import Session
from starlette.requests import Request

from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.health import STATES
from mcpreg.gateway.upstream import GatewayTarget, Upstream
from mcpreg.services import health


async def unhealthy(request: Request, environment: str, server: str) -> frozenset[str]:
    rt = runtime(request.app)

    def read() -> frozenset[str]:
        with unit_of_work(rt.engine) as session:
            return health.unhealthy_versions(session, environment, server)

    return await rt.unhealthy.read_through((environment, server), read)


async def healthy_route(
    request: Request, target: GatewayTarget, chosen: Upstream, environment: str, server: str
) -> Upstream:
    """``chosen``, unless it is a canary the prober holds unhealthy: then stable."""
    if chosen.track != "canary" or target.canary is None:
        return chosen
    if chosen.version in await unhealthy(request, environment, server):
        return target.stable
    return chosen


LABELS = ("server", "environment", "version", "state")


class HealthCollector(Collector):
    """``mcpreg_version_health``: 1 for each deployed version's current state, 0 for the others."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def describe(self) -> Iterator[Metric]:  # no database read when registered
        yield GaugeMetricFamily(
            "mcpreg_version_health", "", labels=("server", "environment", "version", "state")
        )

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "mcpreg_version_health",
            "The prober's state of each stable or canary version (1 for its state, 0 for the others).",
            labels=LABELS,
        )
        with Session(self._engine) as session:
            rows = health.all_states(session)
        for server, environment, version, state in rows:
            for name in STATES:
                family.add_metric([server, environment, version, name], 1.0 if name == state else 0.0)
        yield family
