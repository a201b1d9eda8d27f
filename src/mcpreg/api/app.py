"""The Starlette application: routes, error handlers, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from mcpreg.api import admin, official, registry
from mcpreg.api.cache import ResponseCache, watch_generation
from mcpreg.api.problems import HANDLERS
from mcpreg.db.engine import make_engine
from mcpreg.services.bootstrap import prepare_database
from mcpreg.settings import Settings

# Extra route providers and background services (environments, MCP) register here.
RouteProvider = Callable[[], list[BaseRoute]]
LifespanHook = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


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
    ]
    hooks: list[LifespanHook] = []
    for provider in _extensions():
        extra_routes, hook = provider(settings)
        routes.extend(extra_routes)
        if hook is not None:
            hooks.append(hook)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if prepare:
            await asyncio.to_thread(prepare_database, engine, settings)
        tasks = []
        if background:
            tasks.append(asyncio.create_task(watch_generation(engine, app.state.cache, 0.25)))
        async with contextlib.AsyncExitStack() as stack:
            for hook in hooks:
                await stack.enter_async_context(hook(app))
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)  # type: ignore[arg-type]
    app.state.settings = settings
    app.state.engine = engine
    app.state.cache = ResponseCache()
    app.state.background = background
    return app


Extension = Callable[[Settings], tuple[list[BaseRoute], LifespanHook | None]]


def _extensions() -> list[Extension]:
    """Feature modules that add routes and background work (kept out of this file)."""
    found: list[Any] = []
    return found
