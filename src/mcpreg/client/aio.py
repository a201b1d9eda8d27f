"""``AsyncRegistry``: the asyncio client. Its methods are written once, in ``operations.py``;
this module only says how a call is awaited, and how the watcher task runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

import httpx

from mcpreg.client.calls import Call
from mcpreg.client.operations import Listing, Operation, Operations

P = ParamSpec("P")
T = TypeVar("T")


class AsyncRegistry(Operations[httpx.AsyncBaseTransport]):
    """An asyncio client of one mcpreg registry; use it as ``async with AsyncRegistry(url) as r``."""

    _http: httpx.AsyncClient

    def _connect(self, options: dict[str, Any], watch: bool) -> None:
        self._http = httpx.AsyncClient(**options)
        self._watch_enabled = watch
        self._watcher: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        timeout = httpx.Timeout(self.timeout, read=self.WATCH_WAIT + self.timeout)
        while True:
            try:
                response = await self._http.get("/api/changes", params=self._watch_params(), timeout=timeout)
                ok = self._observe(response)
            except (httpx.HTTPError, ValueError, KeyError):
                ok = False
            if not ok:
                await asyncio.sleep(self.WATCH_RETRY)

    async def __aenter__(self) -> AsyncRegistry:
        if self._watch_enabled and self._watcher is None:
            self._watcher = asyncio.create_task(self._watch())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self._http.aclose()

    async def call(self, call: Call[T]) -> T:
        """Send one described request, through the cache when it is a read."""
        exchange = self._exchange(call)
        while (request := exchange.request()) is not None:
            try:
                exchange.receive(await self._http.request(call.method, call.path, **request))
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
        return exchange.result()

    def _method(self, operation: Operation[P, T]) -> Callable[P, Coroutine[Any, Any, T]]:
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await self.call(operation.describe(self, *args, **kwargs))

        return operation.present(method)

    def _listing(self, listing: Listing[P, T]) -> Callable[P, AsyncIterator[T]]:
        async def iterate(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
            pages = listing.describe(self, *args, **kwargs)
            cursor: str | None = None
            while True:
                items, cursor = pages.read(await self.call(pages.page(cursor)))
                for item in items:
                    yield item
                if cursor is None:
                    return

        return listing.present(iterate)
