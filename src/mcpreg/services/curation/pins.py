"""Pins: hold a server's ``latest`` (and the listing's latest flag) on one release.

A pin survives every sync: ``latest`` is recomputed wherever a change can move it
(``releases.recompute_latest``, and ``curation.state.hold_pins`` after a bulk apply), and
both follow the pin while the pinned release is published and not deleted; otherwise
``latest`` is computed as usual until the release is back. Journaled as ``curation.pin``
and ``curation.unpin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from mcpreg.db.curation_tables import Pin
from mcpreg.db.tables import Release, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.errors import Conflict, NotFound, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.releases import DRAFT, get_release, get_server, latest_version, recompute_latest
from mcpreg.services.tokens import require


@dataclass(frozen=True)
class PinInfo:
    """The release a server's ``latest`` is held on, and who pinned it when."""

    server: str
    version: str
    status: str
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, server_name: str, release: Release, row: Pin) -> PinInfo:
        return cls(server_name, release.version, release.status, row.created_at, row.created_by)


@dataclass(frozen=True)
class Unpinned:
    server: str
    pinned: bool
    latest: str | None


def pin(session: Session, principal: Principal, name: str, version: object) -> PinInfo:
    """Hold ``latest`` of ``name`` on ``version`` (moving an earlier pin)."""
    require(principal, "admin")
    if not isinstance(version, str) or not version:
        raise ValidationFailed("give the version to pin", field="version")
    server = get_server(session, name, lock=True)
    release = get_release(session, server, version)
    if release.status in (DRAFT, "deleted"):
        raise Conflict(
            f"a pin holds a published release; {name}@{release.version} is {release.status}",
            field="version",
            code="release_not_published",
        )
    before_latest = latest_version(session, server)
    row = session.get(Pin, server.id)
    before = None
    if row is None:
        row = Pin(server_id=server.id or 0, release_id=release.id or 0, created_by=principal.name)
    else:
        old = session.get(Release, row.release_id)
        before = old.version if old is not None else None
    row.release_id, row.created_at, row.created_by = release.id or 0, utcnow(), principal.name
    session.add(row)
    session.flush()
    latest = recompute_latest(session, server)
    journal.record(
        session,
        principal,
        "curation.pin",
        server_name=name,
        version=release.version,
        before={"pin": before, "latest": before_latest},
        after={"pin": release.version, "latest": latest.version if latest else None},
    )
    return PinInfo.of(name, release, row)


def unpin(session: Session, principal: Principal, name: str) -> Unpinned:
    """Let ``latest`` of ``name`` follow the highest active release again."""
    require(principal, "admin")
    server = get_server(session, name, lock=True)
    row = session.get(Pin, server.id)
    if row is None:
        raise NotFound(f"{name} is not pinned", field="server", code="curation_not_found")
    old = session.get(Release, row.release_id)
    before_latest = latest_version(session, server)
    session.delete(row)
    session.flush()
    latest = recompute_latest(session, server)
    journal.record(
        session,
        principal,
        "curation.unpin",
        server_name=name,
        before={"pin": old.version if old else None, "latest": before_latest},
        after={"latest": latest.version if latest else None},
    )
    return Unpinned(name, False, latest.version if latest else None)


def list_pins(session: Session) -> list[PinInfo]:
    rows = session.exec(
        select(Pin, Server, Release)
        .join(Server, col(Server.id) == col(Pin.server_id))
        .join(Release, col(Release.id) == col(Pin.release_id))
        .order_by(col(Server.name))
    ).all()
    return [PinInfo.of(server.name, release, row) for row, server, release in rows]
