"""Reading an upstream's official ``/v0.1/servers`` list, one page at a time.

A page is asked with the upstream's own ``cursor`` (opaque, passed back as given), with
``updated_since`` for an incremental sync (the official registry then includes deleted
entries, so a mirror learns of deletions) and with ``include_deleted=true`` for a full one.
Anything but a 200 carrying ``{"servers": [...], "metadata": {...}}`` is an
``UpstreamFailed`` naming the URL and status, never the token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from mcpreg.domain.timestamps import rfc3339
from mcpreg.errors import UpstreamFailed

PAGE_LIMIT = 100  # the official API's largest page


@dataclass(frozen=True)
class Page:
    entries: list[Any]
    next_cursor: str | None
    url: str


def release_url(base_url: str, name: str, version: str) -> str:
    """Where the upstream serves one release (``GET /servers/{name}/versions/{version}``)."""
    return f"{base_url}/servers/{quote(name, safe='')}/versions/{quote(version, safe='')}"


class PageReader:
    """Pages of one upstream over an ``httpx.Client`` (given, so tests can route it in process)."""

    def __init__(
        self, client: httpx.Client, base_url: str, *, token: str | None = None, limit: int = PAGE_LIMIT
    ) -> None:
        self._client = client
        self._url = f"{base_url}/servers"
        self._headers = {"Accept": "application/json", "Accept-Encoding": "gzip"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._limit = limit

    def read(self, cursor: str | None, since: datetime | None) -> Page:
        params: dict[str, str] = {"limit": str(self._limit)}
        if since is not None:
            params["updated_since"] = rfc3339(since)
        else:
            params["include_deleted"] = "true"
        if cursor:
            params["cursor"] = cursor
        try:
            response = self._client.get(self._url, params=params, headers=self._headers)
        except httpx.HTTPError as error:
            raise UpstreamFailed(
                f"upstream {self._url} cannot be read: {type(error).__name__}", field="url"
            ) from None
        where = str(response.request.url)
        if response.status_code != 200:
            raise UpstreamFailed(f"upstream {where} answered {response.status_code}", field="url")
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise UpstreamFailed(f"upstream {where} answered no JSON", field="url") from None
        servers = body.get("servers") if isinstance(body, dict) else None
        metadata = body.get("metadata") if isinstance(body, dict) else None
        if not isinstance(servers, list) or not isinstance(metadata, (dict, type(None))):
            raise UpstreamFailed(f"upstream {where} answered no official server list", field="url")
        next_cursor = (metadata or {}).get("nextCursor")
        if next_cursor is not None and (not isinstance(next_cursor, str) or next_cursor == cursor):
            raise UpstreamFailed(f"upstream {where} answered an unusable nextCursor", field="url")
        return Page(servers, next_cursor or None, where)
