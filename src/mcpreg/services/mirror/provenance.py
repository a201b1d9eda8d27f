"""Where mirrored releases came from, for the reads that hold ``Release`` objects (listing
rows carry it in their own columns: ``discovery._LISTED``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from mcpreg.db.mirror_tables import MirroredRelease, Upstream
from mcpreg.services.views import Source, source_view


def sources_of(session: Session, release_ids: list[int | None]) -> dict[int, Source]:
    """The source of each mirrored release among ``release_ids`` (upstream, the URL it was
    read at, the last sync that wrote it), by release id; local ones are absent."""
    ids = [i for i in release_ids if i is not None]
    if not ids:
        return {}
    rows = session.execute(
        sa.select(
            col(MirroredRelease.release_id),
            col(Upstream.name),
            col(MirroredRelease.source_url),
            col(MirroredRelease.synced_at),
        )
        .join(Upstream, col(Upstream.id) == col(MirroredRelease.upstream_id))
        .where(col(MirroredRelease.release_id).in_(ids))
    )
    return {rid: source_view(name, url, at) for rid, name, url, at in rows}


def source_of(session: Session, release_id: int | None) -> Source | None:
    """The source of one release, or None for a local one."""
    return sources_of(session, [release_id]).get(release_id or 0)


@dataclass(frozen=True)
class ServerSource:
    """The upstream a mirrored server's releases came from, how many, and the last sync of one."""

    upstream: str
    url: str
    releases: int
    synced_at: datetime | None


def server_source(session: Session, server_name: str) -> ServerSource | None:
    """Which upstream a server's releases came from: its name and base URL, how many of the
    server's releases it brought and when a sync last wrote one; None for a local server."""
    row = session.execute(
        sa.select(
            col(Upstream.name),
            col(Upstream.base_url),
            sa.func.count(),
            sa.func.max(MirroredRelease.synced_at),
        )
        .join(Upstream, col(Upstream.id) == col(MirroredRelease.upstream_id))
        .where(col(MirroredRelease.server_name) == server_name)
        .group_by(col(Upstream.name), col(Upstream.base_url))
    ).first()
    if row is None:
        return None
    name, url, releases, synced_at = row
    return ServerSource(name, url, releases, synced_at)
