"""The ``latest`` answers rendered ahead: at start, and after each change for what it touched.

``GET /v0.1/servers/{name}/versions/latest`` is the most asked-for read, and traffic spread
over a large catalogue meets a cold cache for seconds after start or after a catalogue
change (every miss queues for the database: the detail p99 of the 100k benchmark). The
``Warmer`` keeps those answers in the response cache instead, pinned (``api.fastpath.cache``):

* at start, and after a change it cannot pin down (an import), it reads which servers
  have a ``latest`` release, most recently changed first, and renders them in batches
  until they are all cached or the next one would need another pinned answer to go
  (the cache's byte budget bounds it: warming only ever fills free room);
* after a change through this replica, it renders again the servers that change named;
* after a catalogue change seen only by the generation watcher (another replica's), it
  compares each pinned answer's *fingerprint* (the columns its body is made of) with the
  database's, drops and renders again only those that differ, and renders the servers
  changed since its last look (by ``updated_at``, with ``SLACK`` for late commits).

Each batch is one short read on a worker thread (``BATCH`` servers, one statement, the
same rows and bodies as the front door's), so warming holds no connection for long and
never stands in front of a request; answers it could not render go the ordinary way.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from mcpreg.api.fastpath.cache import CatalogueChange, ResponseCache
from mcpreg.db.engine import single_read
from mcpreg.db.tables import Release
from mcpreg.services import discovery
from mcpreg.services.views import embedded_response

log = logging.getLogger("mcpreg.warming")

PREFIX = "/v0.1"  # the current API version; ``/v0`` answers are cached on first request
BATCH = 64
RETRIES = 3  # renders of one batch retired by changes to unknown servers before it is skipped
RETRY_AFTER = 1.0  # seconds to wait after a failed round (the database is away)
SLACK = timedelta(seconds=5)  # a change stamped this long before it committed is still seen

Fingerprint = tuple[Any, ...]

# Enough to tell that a ``latest`` body changed: which release it is, and that release's
# ``updated_at``, which every change to the fields the body shows (status, its message
# and time, publication) moves; the published document itself is immutable. Few columns,
# one datetime: a look over 10,000 servers is five indexed pages (90-140 ms on SQLite on a
# busy 2-core machine), at start and after another replica changed the catalogue.
_FINGERPRINTED = (col(Release.version_key), col(Release.status), col(Release.updated_at))
# Read in pages along ``ix_release_latest`` (``is_latest, server_name``): each page is one
# short statement on its own connection, however large the catalogue.
_LATEST_FINGERPRINTS = (
    sa.select(col(Release.server_name), *_FINGERPRINTED)
    .where(col(Release.is_latest) == sa.true(), col(Release.server_name) > sa.bindparam("after"))
    .order_by(col(Release.server_name))
    .limit(sa.bindparam("page"))
)
PAGE = 2000


def latest_key(name: str) -> str:
    """The cache key of an anonymous ``GET {PREFIX}/servers/{name}/versions/latest``
    (``cache.request_key``: path, empty query, no client id)."""
    return f"{PREFIX}/servers/{name}/versions/latest?#"


UPDATED = len(_FINGERPRINTED) - 1  # where ``updated_at`` is in a fingerprint


def _newest(latest: dict[str, Fingerprint], before: datetime | None) -> datetime | None:
    newest: datetime | None = next((seen[UPDATED] for seen in latest.values()), None)
    if before is None or (newest is not None and newest > before):
        return newest
    return before


def fingerprint(row: Any) -> Fingerprint:
    return (row.version_key, row.status, row.updated_at)


class Warmer:
    """Keeps the ``latest`` answer of every server it can fit in ``cache``, rendered ahead.

    It listens to the cache's catalogue changes and works them off one round at a time in
    ``run`` (a background task); ``idle`` says it has nothing left to do.
    """

    def __init__(self, engine: sa.Engine, cache: ResponseCache, *, batch: int = BATCH) -> None:
        self._engine = engine
        self._cache = cache
        self._batch = batch
        self._known: dict[str, Fingerprint] = {}  # what each pinned answer was rendered from
        self._looked: datetime | None = None  # the newest ``updated_at`` of the last look
        self._everything = True  # the first round warms everything
        self._verify = False
        self._servers: set[str] = set()
        self._busy = False
        self._wake: asyncio.Event | None = None
        self.rounds = 0
        cache.listeners.append(self.heard)

    @property
    def idle(self) -> bool:
        return not (self._busy or self._everything or self._verify or self._servers)

    def heard(self, change: CatalogueChange) -> None:
        """The cache's listener: remember what to do next round (on the event loop)."""
        if change.everything:
            self._everything = True
        elif change.unverified:
            self._verify = True
        else:
            self._servers |= change.servers
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Work off changes forever; cancel the task to stop."""
        self._wake = asyncio.Event()
        self._wake.set()
        failing = False
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._busy = True
            try:
                await self._round()
                failing = False
            except Exception:
                if not failing:
                    log.exception("warming the latest answers failed; they are rendered on request")
                failing = True
                self._known.clear()
                self._cache.invalidate()  # a pinned answer may be stale: drop them, start over
                await asyncio.sleep(RETRY_AFTER)
            finally:
                self._busy = False
                self.rounds += 1

    async def _round(self) -> None:
        everything, verify, servers = self._everything, self._verify, self._servers
        self._everything, self._verify, self._servers = False, False, set()
        if everything:
            self._known.clear()
            latest = await self._fingerprints()
            self._looked = _newest(latest, self._looked)
            await self._warm(list(latest))
            return
        if verify:
            servers |= await self._changed_elsewhere()
        if servers:
            await self._warm(sorted(servers))

    async def _changed_elsewhere(self) -> set[str]:
        """The servers another replica changed: pinned ones whose answers it made stale (now
        dropped), and any changed since the last look."""
        latest = await self._fingerprints()
        since = None if self._looked is None else self._looked - SLACK
        recent = set()
        for name, seen in latest.items():  # most recently changed first
            if since is not None and seen[UPDATED] < since:
                break
            recent.add(name)
        self._looked = _newest(latest, self._looked)
        for name in [n for n in self._known if not self._cache.pinned(n)]:
            del self._known[name]  # evicted since
        changed = {name for name, seen in self._known.items() if latest.get(name) != seen}
        for name in changed:
            del self._known[name]
        if changed:
            self._cache.invalidate(servers=changed)
        return changed | {name for name in recent if not self._cache.pinned(name)}

    async def _warm(self, names: list[str]) -> None:
        """Render and pin ``names`` in order, in batches, until the next answer would need
        another pinned one to go (a changed server's own answer has made room already)."""
        for start in range(0, len(names), self._batch):
            batch = [n for n in names[start : start + self._batch] if not self._cache.pinned(n)]
            for _attempt in range(RETRIES):
                if not batch:
                    break
                started = self._cache.mark()
                rendered = await run_in_threadpool(self._render, batch)
                refused = []
                for name in batch:
                    if name not in rendered:
                        continue  # no latest release any more
                    body, seen = rendered[name]
                    entry = self._cache.entry(body)
                    if self._cache.put(latest_key(name), entry, started, server=name, evict_pinned=False):
                        self._known[name] = seen
                    elif started != self._cache.mark():
                        refused.append(name)  # changed while rendered: render it again
                    else:
                        return  # the byte budget is full
                batch = refused

    async def _fingerprints(self) -> dict[str, Fingerprint]:
        """Every server with a ``latest`` release, most recently changed first, read in pages
        of ``PAGE`` on a worker thread each."""
        found: list[tuple[str, Fingerprint]] = []
        after = ""
        while True:
            page = await run_in_threadpool(self._fingerprint_page, after)
            found += page
            if len(page) < PAGE:
                break
            after = page[-1][0]
        found.sort(key=lambda item: item[1][UPDATED], reverse=True)
        return dict(found)

    def _fingerprint_page(self, after: str) -> list[tuple[str, Fingerprint]]:
        with single_read(self._engine) as connection:
            rows = connection.execute(_LATEST_FINGERPRINTS, {"after": after, "page": PAGE}).all()
        return [(row.server_name, fingerprint(row)) for row in rows]

    def _render(self, names: list[str]) -> dict[str, tuple[bytes, Fingerprint]]:
        """The ``latest`` bodies of ``names`` as the front door renders them, and what each
        was rendered from (one read)."""
        with single_read(self._engine) as connection:
            rows = discovery.latest_rows(connection, names)
        return {name: (orjson.dumps(embedded_response(row)), fingerprint(row)) for name, row in rows.items()}
