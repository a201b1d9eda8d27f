"""Public shapes of releases: the official ``ServerResponse`` and our richer views.

These stay JSON values rather than typed results: the stored server.json goes out as it is
stored (``embedded_response`` hands orjson the text), on the official API's fast paths.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import orjson

from mcpreg.domain.timestamps import rfc3339

OFFICIAL = "io.modelcontextprotocol.registry/official"
MCPREG = "dev.mcpreg/release"


class Published(Protocol):
    """What a ``ServerResponse`` is made of: a ``Release``, or a row of those columns."""

    document: str
    status: str
    status_message: str | None
    status_changed_at: datetime
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    is_latest: bool


def document_of(release: Published) -> dict[str, Any]:
    return orjson.loads(release.document)  # type: ignore[no-any-return]


def official_meta(release: Published) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "status": release.status,
        "statusChangedAt": rfc3339(release.status_changed_at),
        "publishedAt": rfc3339(release.published_at or release.created_at),
        "updatedAt": rfc3339(release.updated_at),
        "isLatest": release.is_latest,
    }
    if release.status_message:
        meta["statusMessage"] = release.status_message
    return meta


Source = dict[str, Any]  # where a mirrored release came from: upstream, url, syncedAt


def source_view(upstream: str, url: str | None, synced_at: datetime | None) -> Source:
    return {"upstream": upstream, "url": url, "syncedAt": rfc3339(synced_at)}


def source_meta(release: object) -> Source | None:
    """The source of a mirrored release from the provenance columns a listing row carries
    (``discovery._LISTED``); None for a local one or an object without them (a ``Release``:
    ``services.mirror.provenance.source_of`` reads it)."""
    upstream = getattr(release, "mirror_upstream", None)
    if upstream is None:
        return None
    return source_view(
        upstream, getattr(release, "mirror_url", None), getattr(release, "mirror_synced_at", None)
    )


def _meta(release: Published, given: Source | None) -> dict[str, Any]:
    meta: dict[str, Any] = {OFFICIAL: official_meta(release)}
    found = given or source_meta(release)
    if found is not None:
        meta[MCPREG] = {"source": found}
    return meta


def server_response(release: Published, source: Source | None = None) -> dict[str, Any]:
    """The spec's ``ServerResponse`` for a published release (a mirrored one names its source
    under ``_meta["dev.mcpreg/release"]``)."""
    return {"server": document_of(release), "_meta": _meta(release, source)}


def embedded_response(release: Published, source: Source | None = None) -> dict[str, Any]:
    """``server_response`` for a body that orjson serialises next: the stored server.json text
    goes in as it is (``orjson.Fragment``), never parsed and dumped again."""
    return {"server": orjson.Fragment(release.document), "_meta": _meta(release, source)}
