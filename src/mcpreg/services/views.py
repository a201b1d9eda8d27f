"""Public shapes of releases: the official ``ServerResponse`` and our richer views.

Handlers return these dicts, never table objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import orjson

from mcpreg.db.tables import Release
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


def source_meta(release: object) -> dict[str, Any] | None:
    """Where a mirrored release came from (``{"upstream", "url", "syncedAt"}``), from the
    provenance columns a listing row carries (``discovery._LISTED``); None for a local one
    or an object without them."""
    upstream = getattr(release, "mirror_upstream", None)
    if upstream is None:
        return None
    return {
        "upstream": upstream,
        "url": getattr(release, "mirror_url", None),
        "syncedAt": rfc3339(getattr(release, "mirror_synced_at", None)),
    }


def _meta(release: Published) -> dict[str, Any]:
    meta: dict[str, Any] = {OFFICIAL: official_meta(release)}
    source = source_meta(release)
    if source is not None:
        meta[MCPREG] = {"source": source}
    return meta


def server_response(release: Published) -> dict[str, Any]:
    """The spec's ``ServerResponse`` for a published release (a mirrored one names its source
    under ``_meta["dev.mcpreg/release"]``)."""
    return {"server": document_of(release), "_meta": _meta(release)}


def embedded_response(release: Published) -> dict[str, Any]:
    """``server_response`` for a body that orjson serialises next: the stored server.json text
    goes in as it is (``orjson.Fragment``), never parsed and dumped again."""
    return {"server": orjson.Fragment(release.document), "_meta": _meta(release)}


def release_view(release: Release, channels: list[str] | None = None) -> dict[str, Any]:
    """Our own view (drafts included): the official response plus lifecycle facts."""
    body = (
        server_response(release)
        if release.status != "draft"
        else {"server": document_of(release), "_meta": {}}
    )
    body["_meta"].setdefault(MCPREG, {}).update(
        {
            "state": release.status,
            "version": release.version,
            "prerelease": release.is_prerelease,
            "createdAt": rfc3339(release.created_at),
            "createdBy": release.created_by,
            "channels": channels or [],
        }
    )
    return body
