"""A fake upstream registry serving official-shaped ``/v0.1/servers`` pages in process.

It holds entries as the official registry would serve them (any server object, so invalid
ones too, and any version string), pages them with an opaque cursor, filters by the
exclusive ``updated_since`` (which, as upstream, brings deleted entries along) and by
``include_deleted``. ``transport`` is an ``httpx.MockTransport`` for a sync client, so no
socket is involved. ``fail_pages`` makes the nth page request (1-based, counting every
request) answer 500 once; ``on_request`` runs before each answer (to hold a sync mid-way);
``drop`` forgets an entry outright, as a registry that purges does.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from mcpreg.api.app import create_app
from mcpreg.db.engine import make_engine
from mcpreg.domain.timestamps import rfc3339
from mcpreg.settings import Settings
from tests.support.live import LiveServer

OFFICIAL = "io.modelcontextprotocol.registry/official"
BASE = "https://upstream.test/v0.1"


@dataclass
class Served:
    server: dict[str, Any]
    status: str
    published_at: datetime
    updated_at: datetime
    status_message: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return str(self.server.get("name")), str(self.server.get("version"))


@dataclass
class FakeUpstream:
    entries: list[Served] = field(default_factory=list)
    clock: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    fail_pages: set[int] = field(default_factory=set)
    on_request: Callable[[httpx.Request], None] | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def add(self, server: dict[str, Any], *, status: str = "active", at: datetime | None = None) -> Served:
        moment = at or self.tick()
        served = Served(server, status, moment, moment)
        self.entries = [e for e in self.entries if e.key != served.key] + [served]
        return served

    def set_status(self, name: str, version: str, status: str, message: str | None = None) -> None:
        for entry in self.entries:
            if entry.key == (name, version):
                entry.status, entry.status_message, entry.updated_at = status, message, self.tick()
                return
        raise KeyError((name, version))

    def drop(self, name: str, version: str) -> Served:
        """Forget an entry outright, as a registry that purges does (no ``deleted`` status)."""
        dropped = next(e for e in self.entries if e.key == (name, version))
        self.entries = [e for e in self.entries if e is not dropped]
        return dropped

    def restore(self, served: Served, *, touch: bool = True) -> None:
        """List a dropped entry again (``touch``: with a new ``updatedAt``, as a re-publish)."""
        if touch:
            served.updated_at = self.tick()
        self.entries.append(served)

    def response(self, entry: Served) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "status": entry.status,
            "publishedAt": rfc3339(entry.published_at),
            "updatedAt": rfc3339(entry.updated_at),
            "statusChangedAt": rfc3339(entry.updated_at),
            "isLatest": False,
        }
        if entry.status_message:
            meta["statusMessage"] = entry.status_message
        return {"server": entry.server, "_meta": {OFFICIAL: meta}}

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)
        if len(self.requests) in self.fail_pages:
            self.fail_pages.discard(len(self.requests))
            return httpx.Response(500, json={"title": "boom"})
        if request.url.path != "/v0.1/servers":
            return httpx.Response(404, json={"title": "not found"})
        params = request.url.params
        since = params.get("updated_since")
        shown = sorted(self.entries, key=lambda e: e.key)
        if since:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
            shown = [e for e in shown if e.updated_at > moment]
        elif params.get("include_deleted") != "true":
            shown = [e for e in shown if e.status != "deleted"]
        start = int(base64.b64decode(params["cursor"])) if params.get("cursor") else 0
        limit = int(params.get("limit", "30"))
        page = shown[start : start + limit]
        more = start + limit < len(shown)
        metadata: dict[str, Any] = {"count": len(page)}
        if more:
            metadata["nextCursor"] = base64.b64encode(str(start + limit).encode()).decode()
        body = {"servers": [self.response(e) for e in page], "metadata": metadata}
        return httpx.Response(200, content=orjson.dumps(body), headers={"Content-Type": "application/json"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._answer), timeout=10)


class RealUpstream:
    """A second real mcpreg (its own SQLite database, the sample catalogue loaded at start)
    on a real uvicorn server: what a mirror syncs from in the end-to-end tests."""

    def __init__(self, template: Path, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "upstream.db"
        shutil.copyfile(template, path)
        self.settings = Settings.from_env(
            {
                "MCPREG_DATABASE_URL": f"sqlite:///{path}",
                "MCPREG_DATA_DIR": str(folder / "data"),
                "MCPREG_SAMPLE_DATA": "1",
                "MCPREG_DEV": "1",
                "MCPREG_MIRROR_SYNC": "0",
            }
        )
        self.engine = make_engine(self.settings.database_url, pool_size=4)
        self._server = LiveServer(create_app(self.settings, self.engine, background=False))
        self.url = f"{self._server.url}/v0.1"

    def __enter__(self) -> RealUpstream:
        self._server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.__exit__()
        self.engine.dispose()

    def listing(self, client: httpx.Client | None = None) -> list[dict[str, Any]]:
        """Every entry it serves, deleted ones included, through its own official API."""
        with httpx.Client(timeout=30) as own:
            return every_entry(client or own, self.url)


def every_entry(client: httpx.Client, base: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", "include_deleted": "true", **({"cursor": cursor} if cursor else {})}
        body = client.get(f"{base}/servers", params=params).raise_for_status().json()
        entries.extend(body["servers"])
        cursor = body["metadata"].get("nextCursor")
        if not cursor:
            return entries
