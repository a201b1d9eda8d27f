"""A read-through cache of rendered public responses, invalidated by the change generation.

Every change bumps a generation counter in the database (``services.journal``), and a
change to the catalogue (releases, servers, channels) bumps a second one. Each replica
polls both (every 0.25 s), so a change made through any replica is served by every
replica within one poll; changes made through this replica invalidate at once.

What a change drops depends on what it can affect. The official API's answers depend
on the catalogue only, so they survive deployments, rollout steps, configuration and
token changes; the environment views depend on everything, so any change retires them.

The cache is bounded by bytes (``MCPREG_CACHE_BYTES``, least recently used out first),
not by entry count, so a catalogue of large list pages cannot grow the process without
limit. Each entry keeps its body and its ETag, and ``CachedResponses`` answers an
anonymous GET for a cached key (or its 304) before routing (``api.fastpath.front_door``).

A large body (``GZIP_MIN`` bytes or more: the list pages) is kept gzip-compressed and
counted at its compressed size: the 1,000 list pages of the 100k benchmark were 110 MB
as JSON and are a seventh of that. A request that accepts gzip gets those bytes with
``Content-Encoding: gzip`` and an ETag of their own (``-gzip`` inside the quotes); any
other gets the JSON, decompressed per request, byte for byte what it got before.

Answers stored for one server (``put(..., server=name)``: the ``latest`` details that
``api.fastpath.warming`` renders ahead) are *pinned*: they outlive a catalogue change to other
servers, and the byte bound evicts every other answer before a pinned one. A change
names the servers it touched (``invalidate(servers=...)``); one seen only through the
watcher (another replica's) drops the rest at once and leaves the pinned answers for the
listeners to verify (``CatalogueChange.unverified``).

Derived lookups that must follow the same rule (the principal behind a token, the routing
snapshot of a deployment target) live in ``Memo`` maps that the cache empties with itself.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, NamedTuple

from starlette.types import Scope

from mcpreg.api.fastpath.encoding import GZIP_HEADER, GZIP_MIN, accepts_gzip, gunzip, gzip, gzip_etag
from mcpreg.api.fastpath.memo import Memo
from mcpreg.settings import DEFAULT_CACHE_BYTES

log = logging.getLogger("mcpreg.cache")

ENTRY_OVERHEAD = 400  # bytes per entry beyond body and key: the entry, its ETag, the dict slot
VARY = "Authorization, X-Client-Id"  # a read's answer depends on who asks and the sticky-routing id
VARY_HEADER = (b"vary", VARY.encode("latin-1"))
# A gzipped answer also depends on Accept-Encoding (who accepts gzip gets it compressed).
GZIP_VARY_HEADER = (b"vary", f"{VARY}, Accept-Encoding".encode("latin-1"))
JSON = "application/json"
JSON_HEADER = (b"content-type", JSON.encode("latin-1"))


class CatalogueChange(NamedTuple):
    """What a catalogue change dropped, as the cache's listeners hear it.

    ``servers`` lost their pinned answers; ``everything`` means every answer went;
    ``unverified`` means another replica changed the catalogue and the pinned answers were
    kept for a listener to check (it calls ``invalidate(servers=...)`` with what changed).
    """

    servers: frozenset[str] = frozenset()
    everything: bool = False
    unverified: bool = False


def etag_for(body: bytes) -> str:
    """A strong validator for a response body."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def compact(body: bytes) -> bytes:
    """``body`` in an object of its own size.

    orjson returns its output in the buffer it grew while writing: a 1 KB answer holds an
    8 KB allocation, a 112 KB list page about 1 MB. A cache of thousands of them kept
    several times its byte budget resident (the 10,000 warmed answers of the 100k
    benchmark: 15 MB of bodies, 67 MB of memory). One copy on the way in fixes that.
    """
    return bytes(memoryview(body))


def request_key(scope: Scope) -> str | None:
    """The cache key of a request: path, raw query and client id; None when authenticated.

    Anonymous answers depend on nothing else (``X-Client-Id`` picks ``latest`` in the
    environment views), so this key is what the front door and the handlers both use.
    """
    client = b""
    seen_client = False
    for name, value in scope["headers"]:
        if name == b"authorization":
            return None
        if name == b"x-client-id" and not seen_client:
            client, seen_client = value, True
    return f"{scope['path']}?{scope['query_string'].decode('latin-1')}#{client.decode('latin-1')}"


def matches(if_none_match: str, etag: str) -> bool:
    return etag in [t.strip() for t in if_none_match.split(",")]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a (lower-case) request header, as Starlette decodes it."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


class Entry(NamedTuple):
    """A rendered 200 answer: its body and ETag, in one small object per entry.

    ``epoch`` is None for an answer that depends on the catalogue only (it lives until the
    catalogue changes), else the cache epoch it was rendered in (it lives until any change).
    ``gzipped`` says ``body`` is the JSON gzip-compressed; ``etag`` is always the JSON's.
    """

    body: bytes
    etag: str
    epoch: int | None = None
    gzipped: bool = False

    @property
    def json(self) -> bytes:
        """The JSON body (decompressed, for a gzipped entry)."""
        return gunzip(self.body) if self.gzipped else self.body

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD


def answer(entry: Entry, scope: Scope, cache_control: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, raw headers and body of the answer to ``scope`` from ``entry``.

    The one place a cacheable read's headers are made: for the front door, for answers
    from the cache, and for the handlers that render one (``api.http.bytes_response``).
    Gzip to a request that accepts it (for a gzipped entry), else the JSON; a 304 when
    ``If-None-Match`` names the ETag of the representation it would get.
    """
    gzipped = entry.gzipped and accepts_gzip(header(scope, b"accept-encoding"))
    etag = gzip_etag(entry.etag) if gzipped else entry.etag
    vary = GZIP_VARY_HEADER if entry.gzipped else VARY_HEADER
    headers = [(b"etag", etag.encode("latin-1")), (b"cache-control", cache_control), vary]
    if_none_match = header(scope, b"if-none-match")
    if if_none_match is not None and matches(if_none_match, etag):
        return 304, headers, b""
    body = entry.body if gzipped or not entry.gzipped else gunzip(entry.body)
    headers += [(b"content-length", str(len(body)).encode()), JSON_HEADER]
    if gzipped:
        headers.append(GZIP_HEADER)
    return 200, headers, body


class ResponseCache:
    """Byte-bounded LRU of request key -> rendered JSON answer, and the memos dropped with it."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES, *, cache_control: str = "no-cache") -> None:
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._pinned: OrderedDict[str, Entry] = OrderedDict()
        self._server_of: dict[str, str] = {}  # pinned key -> its server
        self._keys_of: dict[str, set[str]] = {}  # server -> its pinned keys
        self.max_bytes = max_bytes
        self.bytes = 0
        self.pinned_bytes = 0
        self.listeners: list[Callable[[CatalogueChange], None]] = []
        # The catalogue epoch of the last change to each server, and of the last change to
        # unknown servers: a pinned answer rendered before either is refused (``put``).
        self._server_epoch: dict[str, int] = {}
        self._everything_epoch = 0
        self.cache_control = cache_control
        self._cache_control = cache_control.encode("latin-1")
        self.generation = -1
        self.catalogue_generation = -1
        self.epoch = 0  # moves on every invalidation; a render from an older epoch is not stored
        self.catalogue_epoch = 0  # moves when the catalogue changes
        self.hits = 0
        self.misses = 0
        self._memos: list[Memo[Any, Any]] = []

    def memo(self, max_entries: int) -> Memo[Any, Any]:
        """A new memo that this cache empties whenever it is invalidated."""
        memo: Memo[Any, Any] = Memo(self, max_entries)
        self._memos.append(memo)
        return memo

    def __len__(self) -> int:
        return len(self._entries) + len(self._pinned)

    def get(self, key: str) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None:
            if entry.epoch is not None and entry.epoch != self.epoch:
                self._drop(key)  # rendered before a change it depends on
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry
        entry = self._pinned.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._pinned.move_to_end(key)
        self.hits += 1
        return entry

    def pinned(self, server: str) -> bool:
        """Whether an answer of ``server`` is pinned now."""
        return server in self._keys_of

    def entry(self, body: bytes, *, catalogue_only: bool = True, epoch: int | None = None) -> Entry:
        """A 200 answer for ``body``, with its ETag.

        ``catalogue_only`` says the answer depends on the catalogue alone; otherwise it is
        tied to ``epoch`` (by default the current one), the epoch its render started in.
        """
        tied = None if catalogue_only else (self.epoch if epoch is None else epoch)
        if len(body) >= GZIP_MIN:
            return Entry(gzip(body), etag_for(body), tied, gzipped=True)
        return Entry(compact(body), etag_for(body), tied)

    def answer(self, entry: Entry, scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Status, raw headers and body of the answer to ``scope`` from ``entry`` (``answer``)."""
        return answer(entry, scope, self._cache_control)

    def put(
        self,
        key: str,
        entry: Entry,
        started: tuple[int, int],
        *,
        server: str | None = None,
        evict_pinned: bool = True,
    ) -> bool:
        """Store ``entry`` unless what it depends on changed since ``started`` (``mark()``).

        With ``server`` the answer is pinned: it depends on that server's part of the
        catalogue only (and the caller can tell when that changes: see the module's doc).
        Over the byte bound, unpinned answers go first (least recently used first), then
        pinned ones; with ``evict_pinned=False`` a pinned answer that would need another
        pinned one to go is refused instead (warming never pushes out what it warmed).
        Says whether it stored the entry.
        """
        epoch, catalogue_epoch = started
        server = server if entry.epoch is None else None
        if server is not None:  # only a change to its own server (or to unknown ones) retires it
            if max(self._everything_epoch, self._server_epoch.get(server, 0)) > catalogue_epoch:
                return False
        elif catalogue_epoch != self.catalogue_epoch or (entry.epoch is not None and epoch != self.epoch):
            return False  # rendered from an older state than the cache now holds
        size = entry.size + len(key)
        budget = self.max_bytes - (self.pinned_bytes - self._pinned_size(key))
        if size > (self.max_bytes if server is None or evict_pinned else budget):
            return False
        self._drop(key)
        if server is None:
            self._entries[key] = entry
        else:
            self._pinned[key] = entry
            self._server_of[key] = server
            self._keys_of.setdefault(server, set()).add(key)
            self.pinned_bytes += size
        self.bytes += size
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self._entries or self._pinned)))  # least recently used first
        return True

    def _pinned_size(self, key: str) -> int:
        entry = self._pinned.get(key)
        return 0 if entry is None else entry.size + len(key)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry.size + len(key)
            return
        entry = self._pinned.pop(key, None)
        if entry is not None:
            size = entry.size + len(key)
            self.bytes -= size
            self.pinned_bytes -= size
            server = self._server_of.pop(key)
            keys = self._keys_of[server]
            keys.discard(key)
            if not keys:
                del self._keys_of[server]

    def _clear_unpinned(self) -> None:
        self.bytes = self.pinned_bytes
        self._entries.clear()

    def _notify(self, change: CatalogueChange) -> None:
        for listener in self.listeners:
            try:
                listener(change)
            except Exception:
                log.exception("a cache listener failed on %s", change)

    def mark(self) -> tuple[int, int]:
        """Where the cache stands now; ``put`` refuses a render started before a change."""
        return self.epoch, self.catalogue_epoch

    def invalidate(self, *, catalogue: bool = True, servers: Iterable[str] | None = None) -> None:
        """Retire what a change affects, and tell the listeners.

        ``catalogue=False``: what depends on more than the catalogue (lazily, on its next
        ``get``) and every memo. A catalogue change also drops every unpinned answer, and
        the pinned answers of ``servers`` (all of them when ``servers`` is None).
        """
        self._retire(catalogue=catalogue)
        if not catalogue:
            return
        if servers is None:
            self._everything_epoch = self.catalogue_epoch
            self._server_epoch.clear()
            self._pinned.clear()
            self._server_of.clear()
            self._keys_of.clear()
            self.bytes = self.pinned_bytes = 0
            self._notify(CatalogueChange(everything=True))
            return
        changed = frozenset(servers)
        for server in changed:
            self._server_epoch[server] = self.catalogue_epoch
            for key in list(self._keys_of.get(server, ())):
                self._drop(key)
        self._notify(CatalogueChange(changed))

    def _retire(self, *, catalogue: bool) -> None:
        self.epoch += 1
        for memo in self._memos:
            memo.clear()
        if catalogue:
            self.catalogue_epoch += 1
            self._clear_unpinned()

    def wrote(self, generations: tuple[int, int] | None, servers: list[str | None]) -> None:
        """A write through this replica committed: drop what it affects at once.

        ``generations`` are the counters its transaction left (None when it recorded
        nothing: then it counts as a change to everything); ``servers`` the server of each
        catalogue change it recorded. Only those servers' pinned answers go, even if the
        watcher got there first (a reader must see its own write). The counters are marked
        seen only when nothing else can hide behind them: after a full drop, or when this
        write's changes follow straight on from what the cache has seen; otherwise another
        replica changed the catalogue in between and the watcher verifies that.
        """
        if generations is None:
            self.invalidate()
            return
        generation, catalogue_generation = generations
        named = None if not servers or None in servers else [s for s in servers if s is not None]
        catalogue = catalogue_generation > self.catalogue_generation or named is not None
        follows_on = named is None or catalogue_generation - len(servers) == self.catalogue_generation
        self.invalidate(catalogue=catalogue, servers=named)
        self.saw(generation, catalogue_generation if catalogue and follows_on else None)

    def observe(self, generation: int, catalogue_generation: int) -> None:
        """What the generation watcher read; the counters only grow, so a lower (stale) read
        changes nothing. A catalogue change seen here was made elsewhere: with a listener to
        verify them, the pinned answers stay until it has (``CatalogueChange.unverified``)."""
        if catalogue_generation > self.catalogue_generation:
            if self.listeners:
                self._retire(catalogue=True)
                self._everything_epoch = self.catalogue_epoch
                self._notify(CatalogueChange(unverified=True))
            else:
                self.invalidate()
        elif generation > self.generation:
            self.invalidate(catalogue=False)
        self.saw(generation, catalogue_generation)

    def saw(self, generation: int, catalogue_generation: int | None = None) -> None:
        """Generations whose changes this cache has already dropped what they affect (a write
        through this replica invalidates at once: its watcher need not do it again)."""
        self.generation = max(self.generation, generation)
        if catalogue_generation is not None:
            self.catalogue_generation = max(self.catalogue_generation, catalogue_generation)

    async def cached(
        self, key: str, render: Callable[[], Awaitable[bytes]], *, catalogue_only: bool = True
    ) -> Entry:
        """The cached answer for ``key``, rendering and storing it on a miss."""
        entry = self.get(key)
        if entry is not None:
            return entry
        started = self.mark()
        entry = self.entry(await render(), catalogue_only=catalogue_only, epoch=started[0])
        self.put(key, entry, started)
        return entry
