"""The Starlette application: routes, error handlers, lifespan, feature modules."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
from collections.abc import AsyncIterator, Callable

import sqlalchemy as sa
from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from mcpreg.api import admin, changes, home, official, probes, registry
from mcpreg.api.background import running
from mcpreg.api.cache import Answer, CachedResponses, ResponseCache
from mcpreg.api.nul_guard import NulGuard
from mcpreg.api.problems import HANDLERS
from mcpreg.api.warming import Warmer
from mcpreg.db.engine import make_engine
from mcpreg.services.bootstrap import prepare_database
from mcpreg.settings import Settings

PRINCIPALS = 4096  # tokens remembered per replica until the next change
# Blocking work (every database call) runs on this many threads, and the engine's pool
# keeps as many connections: no connection is opened and closed per request under load
# (anyio's default of 40 threads against a pool of 10 did, with a cold SQLite page cache
# each time), and fewer threads contend for the GIL.
WORKER_THREADS = 16

LifespanHook = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]

# Feature modules; each exposes ``install(app: Starlette) -> None`` which may add
# routes (``app.router.routes``), state, and lifespan hooks (``app.state.lifespan_hooks``).
FEATURES = (
    "mcpreg.api.config",
    "mcpreg.api.environments",
    "mcpreg.mcp.registry",
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
    routes: list[BaseRoute] = [
        *official.routes("/v0.1"),
        *official.routes("/v0"),
        *registry.routes(),
        *admin.routes(),
        *changes.routes(),
        *probes.routes(),
        *home.routes(),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        if prepare:
            await asyncio.to_thread(prepare_database, engine, settings)
        loops: tuple[str, ...] = ("generation-watcher", "rollout-scheduler") if background else ()
        if app.state.warmer is not None:  # built only with background work and a cache
            loops += ("cache-warmer",)
        async with contextlib.AsyncExitStack() as stack:
            # In the background: start-up does not wait for them. Stopped (cancelled, then
            # awaited) on shutdown, after the hooks.
            await stack.enter_async_context(running(app, loops))
            for hook in app.state.lifespan_hooks:
                await stack.enter_async_context(hook(app))
            # Everything loaded so far (modules, schemas, the ORM's registry) lives as long as
            # the process: keep it out of the collector's full passes, whose pauses otherwise
            # show in p99 as the response cache fills.
            gc.freeze()
            yield

    cache = ResponseCache(settings.cache_bytes, cache_control=settings.cache_control)
    answers: list[Answer] = []  # feature modules add front-door answers (``api.cache``)
    app = Starlette(
        routes=routes,
        exception_handlers=HANDLERS,
        lifespan=lifespan,
        # NulGuard outermost: no cached answer or handler ever sees a NUL in the path or query.
        middleware=[Middleware(NulGuard), Middleware(CachedResponses, cache=cache, answers=answers)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.cache = cache
    app.state.answers = answers
    app.state.principals = cache.memo(PRINCIPALS)
    app.state.latest_releases = official.latest_loader(engine)
    # Renders every server's ``latest`` ahead into the cache, at start and after changes.
    app.state.warmer = Warmer(engine, cache) if background and settings.cache_bytes > 0 else None
    answers.append(official.latest_at_the_door)
    app.state.background = background
    app.state.drain = probes.Drain()
    app.state.lifespan_hooks = []
    for module_name in FEATURES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.install(app)
    return app
