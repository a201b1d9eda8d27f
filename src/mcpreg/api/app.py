"""The Starlette application: routes, error handlers, lifespan, feature modules."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Callable

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from mcpreg.api import admin, changes, official, registry
from mcpreg.api.cache import ResponseCache, watch_generation
from mcpreg.api.problems import HANDLERS
from mcpreg.db.engine import make_engine
from mcpreg.services.bootstrap import prepare_database
from mcpreg.settings import Settings

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
    engine = engine or make_engine(settings.database_url)
    routes: list[BaseRoute] = [
        *official.routes("/v0.1"),
        *official.routes("/v0"),
        *registry.routes(),
        *admin.routes(),
        *changes.routes(),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if prepare:
            await asyncio.to_thread(prepare_database, engine, settings)
        tasks = []
        if background:
            tasks.append(asyncio.create_task(watch_generation(engine, app.state.cache, 0.25)))
        async with contextlib.AsyncExitStack() as stack:
            for hook in app.state.lifespan_hooks:
                await stack.enter_async_context(hook(app))
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.cache = ResponseCache()
    app.state.background = background
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
