"""The Starlette application: its runtime, its route table, its middleware and lifespan.

``create_app`` builds one ``Runtime`` (``api.runtime``: everything the handlers, the front
door and the background loops use) and the routes (``api.routes``), and nothing else does.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

import sqlalchemy as sa
from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware

from mcpreg.api import official, resolve
from mcpreg.api.background import running
from mcpreg.api.config import load_app_keyring
from mcpreg.api.fastpath.cache import ResponseCache
from mcpreg.api.fastpath.front_door import CachedResponses
from mcpreg.api.fastpath.warming import Warmer
from mcpreg.api.metrics import CountedRequests, ServiceMetrics
from mcpreg.api.nul_guard import NulGuard
from mcpreg.api.probes import Drain
from mcpreg.api.problems import HANDLERS
from mcpreg.api.routes import routes
from mcpreg.api.runtime import Runtime
from mcpreg.db.engine import make_engine
from mcpreg.gateway.health import HealthCollector
from mcpreg.gateway.limits import build_limiter
from mcpreg.gateway.metrics import GatewayMetrics
from mcpreg.gateway.replica import Gateway
from mcpreg.mcp.registry import build_server
from mcpreg.services.bootstrap import prepare_database
from mcpreg.settings import Settings

PRINCIPALS = 4096  # tokens remembered per replica until the next change
TARGET_FACTS = 20_000  # targets whose gateway limits and unhealthy versions are kept until a change
# Blocking work (every database call) runs on this many threads, and the engine's pool
# keeps as many connections: no connection is opened and closed per request under load
# (anyio's default of 40 threads against a pool of 10 did, with a cold SQLite page cache
# each time), and fewer threads contend for the GIL.
WORKER_THREADS = 16


def build_runtime(settings: Settings, engine: sa.Engine, *, background: bool) -> Runtime:
    """Every long-lived part of one replica. Outside development mode a missing or weak key
    ring raises ``ConfigurationError`` here, so the app is never built without one."""
    keyring = load_app_keyring(settings)
    cache = ResponseCache(settings.cache_bytes, cache_control=settings.cache_control)
    metrics = ServiceMetrics(cache, engine)  # this app's own Prometheus registry (``/metrics``)
    metrics.registry.register(HealthCollector(engine))  # the prober's states, read at each scrape
    return Runtime(
        settings=settings,
        engine=engine,
        keyring=keyring,
        cache=cache,
        principals=cache.memo(PRINCIPALS),
        latest_releases=official.latest_loader(engine),
        targets=cache.memo(resolve.TARGETS),
        target_builds=resolve.target_builds(engine, keyring),
        drain=Drain(),
        mcp_server=build_server(engine),
        background=background,
        metrics=metrics,
        gateway_metrics=GatewayMetrics(metrics.registry),
        gateway=Gateway(settings, engine, keyring, cache),
        limiter=build_limiter(settings.redis_url, metrics.registry),
        rate_limits=cache.memo(TARGET_FACTS),
        unhealthy=cache.memo(TARGET_FACTS),
        # Renders every server's ``latest`` ahead into the cache, at start and after changes.
        warmer=Warmer(engine, cache) if background and settings.cache_bytes > 0 else None,
        # The front door's answers, tried in order: ``latest`` bodies, then remembered routing.
        answers=[official.latest_at_the_door, resolve.from_memory],
    )


def create_app(
    settings: Settings,
    engine: sa.Engine | None = None,
    *,
    prepare: bool = True,
    background: bool = True,
) -> Starlette:
    """Build the app. ``prepare`` migrates and seeds on start; ``background`` runs pollers."""
    engine = engine or make_engine(settings.database_url, pool_size=WORKER_THREADS)
    rt = build_runtime(settings, engine, background=background)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        if prepare:
            await asyncio.to_thread(prepare_database, engine, settings)
        loops: tuple[str, ...] = (
            ("generation-watcher", "rollout-scheduler", "traffic-flusher") if background else ()
        )
        if rt.warmer is not None:
            loops += ("cache-warmer",)
        if background and settings.mirror_sync:
            loops += ("mirror-sync",)
        if background and settings.health_checks:
            loops += ("health-prober",)
        if background:
            loops += ("canary-analysis",)
        if background and settings.webhooks:
            loops += ("gate-runner", "alerts")
        # In the background: start-up does not wait for them. Stopped (cancelled, then
        # awaited) on shutdown, after the MCP session manager and the gateway's upstream client.
        async with running(app, loops), rt.mcp_server.session_manager.run(), rt.gateway.client:
            # Everything loaded so far (modules, schemas, the ORM's registry) lives as long as
            # the process: keep it out of the collector's full passes, whose pauses otherwise
            # show in p99 as the response cache fills.
            gc.freeze()
            try:
                yield
            finally:
                await rt.limiter.close()  # the shared limiter's Redis connections, if any

    table = routes(rt)  # builds the MCP endpoint, and with it its session manager
    app = Starlette(
        routes=table,
        exception_handlers=HANDLERS,
        lifespan=lifespan,
        # CountedRequests outermost (every answer counted and timed, ``/metrics``); then
        # NulGuard: no cached answer or handler ever sees a NUL in the path or query.
        middleware=[
            Middleware(CountedRequests, metrics=rt.metrics),
            Middleware(NulGuard),
            Middleware(CachedResponses, cache=rt.cache, answers=rt.answers),
        ],
    )
    app.state.runtime = rt  # the one thing on app.state; read it with ``runtime(app)``
    return app
