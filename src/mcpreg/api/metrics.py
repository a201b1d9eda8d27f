"""``GET /metrics``: this replica's counters in the Prometheus text format.

One ``CollectorRegistry`` per app (never the process-wide one, so several apps in one
process, as in the tests, keep their own counts) holds:

* the gateway's per-version series (``gateway.metrics.GatewayMetrics``):
  ``mcpreg_gateway_requests_total`` and ``mcpreg_gateway_request_duration_seconds``;
* the registry's own HTTP traffic, counted by ``CountedRequests`` (the outermost middleware):
  ``mcpreg_http_requests_total{method,route,status}`` and
  ``mcpreg_http_request_duration_seconds{method,route}``; ``route`` is the route's path
  template, ``""`` for an answer given before routing (the cache's front door) or no route;
* the response cache, read from ``ResponseCache`` when scraped: ``mcpreg_cache_hits_total``,
  ``mcpreg_cache_misses_total``, ``mcpreg_cache_bytes``, ``mcpreg_cache_entries``;
* the rollout history, counted in the database when scraped (so every replica reports the
  same, cluster-wide numbers: aggregate them with ``max``, not ``sum``):
  ``mcpreg_deployment_events_total{environment,action}`` (deploy, rollback, abort, step...).

Access: with ``MCPREG_METRICS_PUBLIC=1`` anyone may scrape (a private network); otherwise
a bearer token equal to ``MCPREG_METRICS_TOKEN`` (a scrape credential that is no registry
token), or a registry token with the ``admin`` scope. The series name servers and versions,
which a public registry need not show everyone.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlmodel import Session, col, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcpreg.api.fastpath.cache import ResponseCache
from mcpreg.api.http import principal_of
from mcpreg.api.runtime import runtime
from mcpreg.db.deploy_tables import DeploymentEvent
from mcpreg.services.tokens import require

log = logging.getLogger("mcpreg.metrics")

HTTP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ServiceMetrics:
    """The app's registry of series and the HTTP counters ``CountedRequests`` bumps."""

    def __init__(self, cache: ResponseCache, engine: sa.Engine) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "mcpreg_http_requests",
            "HTTP requests answered by this replica, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "mcpreg_http_request_duration_seconds",
            "Seconds from a request's arrival to the end of its response, by method and route.",
            ("method", "route"),
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(CacheCollector(cache))
        self.registry.register(RolloutCollector(engine))

    def render(self) -> bytes:
        """The text exposition (blocking: the rollout collector reads the database)."""
        return generate_latest(self.registry)


class CacheCollector(Collector):
    """The response cache's counters, read as they are when scraped."""

    def __init__(self, cache: ResponseCache) -> None:
        self._cache = cache

    def collect(self) -> Iterator[Metric]:
        cache = self._cache
        yield CounterMetricFamily("mcpreg_cache_hits", "Reads answered from the response cache.", cache.hits)
        yield CounterMetricFamily(
            "mcpreg_cache_misses", "Cache lookups that found no usable answer.", cache.misses
        )
        yield GaugeMetricFamily("mcpreg_cache_bytes", "Bytes the response cache holds.", cache.bytes)
        yield GaugeMetricFamily("mcpreg_cache_entries", "Answers the response cache holds.", len(cache))


class RolloutCollector(Collector):
    """Deployment history events by environment and action, counted in the database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def describe(self) -> Iterator[Metric]:  # no database read when registered
        yield CounterMetricFamily("mcpreg_deployment_events", "", labels=("environment", "action"))

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "mcpreg_deployment_events",
            "Deployment history events (deploy, rollback, abort, step...) in the whole registry.",
            labels=("environment", "action"),
        )
        with Session(self._engine) as session:
            rows = session.exec(
                select(DeploymentEvent.environment, DeploymentEvent.action, func.count())
                .group_by(col(DeploymentEvent.environment), col(DeploymentEvent.action))
                .order_by(col(DeploymentEvent.environment), col(DeploymentEvent.action))
            ).all()
        for environment, action, count in rows:
            family.add_metric([environment, action], count)
        yield family


class CountedRequests:
    """ASGI middleware: count and time every HTTP request, by method, route and status."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self._requests = metrics.http_requests
        self._latency = metrics.http_latency
        # Each (method, route, status)'s Prometheus children, found once: ``labels`` per
        # request costs more than the rest of the counting.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server sends when the app fails before it starts a response

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
            route = getattr(scope.get("route"), "path", "")
            key = (method, route, status)
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (
                    self._requests.labels(method, route, str(status)),
                    self._latency.labels(method, route),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)


async def _allow(request: Request) -> None:
    settings = runtime(request.app).settings
    if settings.metrics_public:
        return
    scheme, _, offered = (request.headers.get("authorization") or "").partition(" ")
    token = settings.metrics_token
    if (
        token is not None
        and scheme.lower() == "bearer"
        and hmac.compare_digest(offered.strip().encode(), token.encode())
    ):
        return
    require(await principal_of(request), "admin")


async def metrics(request: Request) -> Response:
    await _allow(request)
    body = await run_in_threadpool(runtime(request.app).metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
