"""Public shapes of releases: the official ``ServerResponse`` and our richer views.

Handlers return these dicts, never table objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from mcpreg.db.tables import Release

OFFICIAL = "io.modelcontextprotocol.registry/official"
MCPREG = "dev.mcpreg/release"


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def document_of(release: Release) -> dict[str, Any]:
    return orjson.loads(release.document)  # type: ignore[no-any-return]


def official_meta(release: Release) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "status": release.status,
        "statusChangedAt": iso(release.status_changed_at),
        "publishedAt": iso(release.published_at or release.created_at),
        "updatedAt": iso(release.updated_at),
        "isLatest": release.is_latest,
    }
    if release.status_message:
        meta["statusMessage"] = release.status_message
    return meta


def server_response(release: Release) -> dict[str, Any]:
    """The spec's ``ServerResponse`` for a published release."""
    return {"server": document_of(release), "_meta": {OFFICIAL: official_meta(release)}}


def release_view(release: Release, channels: list[str] | None = None) -> dict[str, Any]:
    """Our own view (drafts included): the official response plus lifecycle facts."""
    body = (
        server_response(release)
        if release.status != "draft"
        else {"server": document_of(release), "_meta": {}}
    )
    body["_meta"][MCPREG] = {
        "state": release.status,
        "version": release.version,
        "prerelease": release.is_prerelease,
        "createdAt": iso(release.created_at),
        "createdBy": release.created_by,
        "channels": channels or [],
    }
    return body
