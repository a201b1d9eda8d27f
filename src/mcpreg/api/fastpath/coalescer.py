"""Concurrent lookups of the same kind, gathered into one blocking call on one worker thread.

Under load, many requests miss the response cache at once (uniform traffic over a large
catalogue does). Each miss alone costs a thread hop and a statement; a ``Coalescer``
hands every key asked for while its previous call ran to a single ``fetch(keys)``, so N
concurrent misses cost one hop and one statement, and a lone miss costs what it did.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Coalescer(Generic[K, V]):
    """``get(key)`` answers ``fetch(keys)[key]`` (None when absent), batching concurrent keys.

    ``fetch`` runs on a worker thread with at most ``max_batch`` distinct keys; up to
    ``parallel`` batches are in flight, so the event loop answers one batch while the next
    is read. An exception ``fetch`` raises reaches every request of that batch.
    """

    def __init__(
        self, fetch: Callable[[list[K]], dict[K, V]], *, max_batch: int = 64, parallel: int = 2
    ) -> None:
        self._fetch = fetch
        self._max = max_batch
        self._parallel = parallel
        self._pending: dict[K, list[asyncio.Future[V | None]]] = {}
        self._drainers = 0

    async def get(self, key: K) -> V | None:
        # One future per request: one that goes away cancels only its own wait.
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append(future)
        if self._drainers < self._parallel:
            self._drainers += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                keys = list(itertools.islice(self._pending, self._max))
                waiting = [self._pending.pop(key) for key in keys]
                try:
                    found = await run_in_threadpool(self._fetch, keys)
                except Exception as exc:
                    for futures in waiting:
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
                for key, futures in zip(keys, waiting, strict=True):
                    value = found.get(key)
                    for future in futures:
                        if not future.done():
                            future.set_result(value)
        finally:
            self._drainers -= 1
