"""The client's response cache: fresh for ``ttl`` seconds, then revalidated by ETag.

Within the TTL a read is answered from memory without a request. After it, the client
sends ``If-None-Match`` with the stored ETag: a 304 reuses the stored body and starts
a new TTL, a 200 replaces the entry. A TTL of 0 revalidates on every read, so it never
serves anything the registry has since changed, yet moves no body while nothing has.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Entry:
    etag: str
    body: bytes
    fresh_until: float


class ResponseCache:
    """A bounded, thread-safe map from request key to (ETag, parsed body, freshness)."""

    def __init__(
        self, ttl: float, *, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl < 0:
            raise ValueError("cache_ttl must be 0 or more seconds")
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.revalidations = 0

    def fresh(self, key: str) -> bytes | None:
        """The stored body while it is within its TTL, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or self._clock() >= entry.fresh_until:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.body

    def expire_all(self) -> None:
        """Make every entry stale but keep its ETag: the next reads revalidate (304 if unchanged)."""
        with self._lock:
            for entry in self._entries.values():
                entry.fresh_until = 0.0

    def etag(self, key: str) -> str | None:
        """The ETag to revalidate a stale entry with."""
        with self._lock:
            entry = self._entries.get(key)
            return entry.etag if entry else None

    def revalidated(self, key: str, etag: str) -> bytes | None:
        """A 304 for ``etag`` arrived: restart the TTL and return the body (None if it is gone)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.etag != etag:
                return None
            entry.fresh_until = self._clock() + self.ttl
            self._entries.move_to_end(key)
            self.revalidations += 1
            return entry.body

    def store(self, key: str, etag: str, body: bytes) -> None:
        with self._lock:
            self._entries[key] = Entry(etag, body, self._clock() + self.ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
