"""Values derived from the database, kept until the change generation moves (``Memo``).

The principal behind a token, the routing snapshot of a deployment target, the gateway's
targets, rate limits and unhealthy versions: each lives in a ``Memo`` that the response
cache (``api.fastpath.cache``) empties with itself, and that refuses a value computed from
an older state than it now holds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Owner(Protocol):
    """What a memo needs of its cache: the epoch, moved by every invalidation."""

    @property
    def epoch(self) -> int: ...


class Memo(Generic[K, V]):
    """A small map of values derived from the database, emptied with the cache that owns it.

    Like the cache, it refuses a value computed from an older state than it now holds.
    """

    def __init__(self, owner: Owner, max_entries: int) -> None:
        self._owner = owner
        self._max = max_entries
        self._values: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    async def read_through(self, key: K, read: Callable[[], V]) -> V:
        """The value of ``key``: held, or ``read`` on a worker thread and kept, unless a change
        came while it was read (then it is returned and not kept)."""
        known = self._values.get(key)
        if known is not None:
            return known
        epoch = self._owner.epoch
        value = await run_in_threadpool(read)
        self.put(key, value, epoch)
        return value

    def put(self, key: K, value: V, epoch: int) -> None:
        if epoch != self._owner.epoch:
            return
        if len(self._values) >= self._max and key not in self._values:
            del self._values[next(iter(self._values))]  # oldest first in
        self._values[key] = value

    def clear(self) -> None:
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)
