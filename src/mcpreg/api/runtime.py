"""The app's dependencies, typed, built once in ``create_app`` (``api.app``).

Everything a handler, an answer at the front door or a background loop needs beyond its
request is a field here: there is no other ``app.state``. Read it with ``runtime(app)``
(``runtime(request.app)`` in a handler, ``runtime(scope["app"])`` in an ASGI answer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from starlette.applications import Starlette

from mcpreg.crypto.keyring import KeyRing
from mcpreg.settings import Settings

if TYPE_CHECKING:  # the types only: these modules import this one
    from mcp.server.mcpserver import MCPServer

    from mcpreg.api.fastpath.cache import ResponseCache
    from mcpreg.api.fastpath.coalescer import Coalescer
    from mcpreg.api.fastpath.front_door import Answer
    from mcpreg.api.fastpath.memo import Memo
    from mcpreg.api.fastpath.warming import Warmer
    from mcpreg.api.metrics import ServiceMetrics
    from mcpreg.api.probes import Drain
    from mcpreg.domain.principal import Principal
    from mcpreg.domain.rate_limits import Limits
    from mcpreg.gateway.limits import Limiter
    from mcpreg.gateway.metrics import GatewayMetrics
    from mcpreg.gateway.replica import Gateway
    from mcpreg.services.deploy.targets import RoutedTarget

TargetKey = tuple[str, str]  # (environment, server name)


@dataclass(eq=False)
class Runtime:
    """One replica's long-lived parts."""

    settings: Settings
    engine: sa.Engine
    keyring: KeyRing  # seals and opens secrets (``MCPREG_SECRET_KEYS``)
    cache: ResponseCache  # public answers, by request; emptied by change generations
    principals: Memo[str, Principal]  # tokens seen since the last change, by token hash
    latest_releases: Coalescer[str, bytes]  # ``latest`` bodies; concurrent misses share a read
    targets: Memo[TargetKey, RoutedTarget]  # routing snapshots ``/resolve`` answers from
    target_builds: Coalescer[TargetKey, RoutedTarget]  # concurrent snapshot builds, batched
    drain: Drain  # set on SIGTERM: readiness fails, long polls answer at once
    mcp_server: MCPServer  # the registry's MCP tools at ``/mcp``
    background: bool  # whether the lifespan runs the background loops
    metrics: ServiceMetrics  # this replica's Prometheus registry, HTTP counters (``/metrics``)
    gateway_metrics: GatewayMetrics  # counts every proxied request; flushed by ``traffic-flusher``
    gateway: Gateway  # the MCP gateway: its upstream client, session seal and upstreams memo
    limiter: Limiter  # the gateway's token buckets: this replica's, or shared in Redis
    rate_limits: Memo[TargetKey, Limits]  # each target's limits, read once per change
    unhealthy: Memo[TargetKey, frozenset[str]]  # versions the prober holds unhealthy, per target
    warmer: Warmer | None = None  # renders ``latest`` ahead; only with a cache and loops
    # Tried in order by the front door before routing (``api.fastpath.front_door.CachedResponses``).
    answers: list[Answer] = field(default_factory=list)


def runtime(app: Starlette) -> Runtime:
    """The app's runtime (set once by ``create_app``)."""
    built: Runtime = app.state.runtime
    return built
