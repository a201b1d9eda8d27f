"""Everything curated, in one answer: ``GET /api/curation`` and ``mcpreg curate list``."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from mcpreg.db.curation_tables import StatusOverride
from mcpreg.db.mirror_tables import MirroredRelease
from mcpreg.db.tables import Release
from mcpreg.domain.principal import Principal
from mcpreg.domain.timestamps import rfc3339
from mcpreg.services import ownership
from mcpreg.services.curation.namespaces import list_local
from mcpreg.services.curation.pins import list_pins
from mcpreg.services.curation.rules import list_rules
from mcpreg.services.tokens import require


def local_statuses(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(
        select(StatusOverride, Release, MirroredRelease)
        .join(Release, col(Release.id) == col(StatusOverride.release_id))
        .join(MirroredRelease, col(MirroredRelease.release_id) == col(StatusOverride.release_id))
        .order_by(col(Release.server_name), col(Release.version_key).desc())
    ).all()
    return [
        {
            "server": release.server_name,
            "version": release.version,
            "status": row.status,
            "statusMessage": row.status_message,
            "upstreamStatus": mirrored.upstream_status,
            "createdAt": rfc3339(row.created_at),
            "createdBy": row.created_by,
        }
        for row, release, mirrored in rows
    ]


def curation(session: Session, principal: Principal) -> dict[str, Any]:
    """The rules, local namespaces, pins, local statuses, and the namespaces each upstream owns."""
    require(principal, "admin")
    return {
        "rules": list_rules(session),
        "localNamespaces": list_local(session),
        "pins": list_pins(session),
        "localStatuses": local_statuses(session),
        "owners": [o.as_dict() for o in ownership.owners(session)],
    }
