"""Everything curated, in one answer: ``GET /api/curation`` and ``mcpreg curate list``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from mcpreg.db.curation_tables import StatusOverride
from mcpreg.db.mirror_tables import MirroredRelease
from mcpreg.db.tables import Release
from mcpreg.domain.principal import Principal
from mcpreg.services import ownership
from mcpreg.services.curation.namespaces import LocalNamespaceInfo, list_local
from mcpreg.services.curation.pins import PinInfo, list_pins
from mcpreg.services.curation.rules import RuleInfo, list_rules
from mcpreg.services.tokens import require


@dataclass(frozen=True)
class LocalStatus:
    """A mirrored release's status as an admin set it, beside what its upstream says."""

    server: str
    version: str
    status: str
    status_message: str | None
    upstream_status: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True)
class Curated:
    rules: list[RuleInfo]
    local_namespaces: list[LocalNamespaceInfo]
    pins: list[PinInfo]
    local_statuses: list[LocalStatus]
    owners: list[ownership.Owner]


def local_statuses(session: Session) -> list[LocalStatus]:
    rows = session.exec(
        select(StatusOverride, Release, MirroredRelease)
        .join(Release, col(Release.id) == col(StatusOverride.release_id))
        .join(MirroredRelease, col(MirroredRelease.release_id) == col(StatusOverride.release_id))
        .order_by(col(Release.server_name), col(Release.version_key).desc())
    ).all()
    return [
        LocalStatus(
            server=release.server_name,
            version=release.version,
            status=row.status,
            status_message=row.status_message,
            upstream_status=mirrored.upstream_status,
            created_at=row.created_at,
            created_by=row.created_by,
        )
        for row, release, mirrored in rows
    ]


def curation(session: Session, principal: Principal) -> Curated:
    """The rules, local namespaces, pins, local statuses, and the namespaces each upstream owns."""
    require(principal, "admin")
    return Curated(
        rules=list_rules(session),
        local_namespaces=list_local(session),
        pins=list_pins(session),
        local_statuses=local_statuses(session),
        owners=ownership.owners(session),
    )
