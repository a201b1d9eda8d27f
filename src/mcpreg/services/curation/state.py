"""What the release lifecycle asks of curation: the pin that holds ``latest``, and the
local status a status PATCH on a mirrored release leaves behind.

Imported by :mod:`mcpreg.services.releases` (so nothing here imports it back).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.curation_tables import Pin, StatusOverride
from mcpreg.db.mirror_tables import MirroredRelease
from mcpreg.db.tables import Release, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.services import journal

_HELD_OUT = ("draft", "deleted")  # a pin on such a release holds nothing: ``latest`` is computed


def pinned_release(session: Session, server: Server) -> Release | None:
    """The release a pin holds ``latest`` on, while it is published and not deleted."""
    pin = session.get(Pin, server.id)
    if pin is None:
        return None
    release = session.get(Release, pin.release_id)
    return release if release is not None and release.status not in _HELD_OUT else None


def hold_pins(session: Session, server_ids: Iterable[int]) -> None:
    """After a bulk ``latest`` computation (``importer.recompute_latest_bulk``): move the
    latest flag of each pinned server among ``server_ids`` back onto its pin."""
    ids = sorted(set(server_ids))
    if not ids:
        return
    held = session.execute(
        select(Pin.server_id, Release.id)
        .join(Release, col(Release.id) == col(Pin.release_id))
        .where(col(Pin.server_id).in_(ids), col(Release.status).not_in(_HELD_OUT))
    ).all()
    for server_id, release_id in held:
        session.execute(
            sa.update(Release)
            .where(col(Release.server_id) == server_id)
            .values(is_latest=col(Release.id) == release_id)
        )


def remember_status(session: Session, principal: Principal, release: Release) -> None:
    """Keep the status just given to a mirrored release as local (the sync leaves it), or,
    when it is what the upstream says again, let the release follow the upstream.

    Does nothing for a release no sync brought. Journaled as ``curation.status.keep`` or
    ``curation.status.follow``.
    """
    mirrored = session.get(MirroredRelease, release.id)
    if mirrored is None:
        return
    row = session.get(StatusOverride, release.id)
    before = None if row is None else {"status": row.status, "statusMessage": row.status_message}
    upstream = (mirrored.upstream_status, mirrored.upstream_status_message)
    after: dict[str, str | None]
    if (release.status, release.status_message) == upstream:
        if row is None:
            return
        session.delete(row)
        action, after = "curation.status.follow", {"upstreamStatus": upstream[0]}
    else:
        row = row or StatusOverride(release_id=release.id or 0, status=release.status, created_by="")
        row.status, row.status_message = release.status, release.status_message
        row.created_at, row.created_by = utcnow(), principal.name
        session.add(row)
        action = "curation.status.keep"
        after = {
            "status": release.status,
            "statusMessage": release.status_message,
            "upstreamStatus": upstream[0],
        }
    journal.record(
        session,
        principal,
        action,
        server_name=release.server_name,
        version=release.version,
        before=before,
        after=after,
    )
