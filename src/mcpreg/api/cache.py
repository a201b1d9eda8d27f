"""A read-through cache of rendered public responses, invalidated by the change generation.

Every change bumps a generation counter in the database (``services.journal``). Each
replica polls it (every ``MCPREG_CACHE_POLL`` seconds, 0.25 by default) and drops its
cache when it moves, so a change made through any replica is served by every replica
within one poll; changes made through this replica invalidate at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from mcpreg.db.engine import unit_of_work
from mcpreg.services.journal import current_generation

log = logging.getLogger("mcpreg.cache")


class ResponseCache:
    """Bounded LRU of (path, query) -> rendered JSON bytes and their ETag."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._max = max_entries
        self.generation = -1
        self.epoch = 0  # moves on every invalidation; a render from an older epoch is not stored
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> tuple[bytes, str] | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: str, entry: tuple[bytes, str], epoch: int) -> None:
        if epoch != self.epoch:
            return  # rendered from an older state than the cache now holds
        self._entries[key] = entry
        if len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def invalidate(self) -> None:
        self._entries.clear()
        self.epoch += 1

    def observe(self, generation: int) -> None:
        if generation != self.generation:
            self.invalidate()
            self.generation = generation

    async def cached(self, key: str, render: Callable[[], Awaitable[bytes]]) -> tuple[bytes, str]:
        """The cached (body, ETag) for ``key``, rendering and storing it on a miss."""
        entry = self.get(key)
        if entry is not None:
            return entry
        epoch = self.epoch
        body = await render()
        entry = (body, etag_for(body))
        self.put(key, entry, epoch)
        return entry


def etag_for(body: bytes) -> str:
    """A strong validator for a response body."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


async def watch_generation(engine: sa.Engine, cache: ResponseCache, interval: float) -> None:
    """Poll the generation forever; cancel the task to stop."""

    def read() -> int:
        with unit_of_work(engine) as session:
            return current_generation(session)

    while True:
        with contextlib.suppress(Exception):
            cache.observe(await run_in_threadpool(read))
        await asyncio.sleep(interval)
