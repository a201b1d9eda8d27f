"""What a rule change does at once to the servers mirrored already, in bulk.

Withholding a server marks each of its mirrored releases that is not deleted yet as
deleted, with the message ``WITHHELD``; restoring one gives each release its local status
(``status_override``) or else the upstream's last known status. The writes are one
executemany per change, ``latest`` is recomputed once for every touched server (then the
pins held), and each server gets its journal entry (``curation.withhold`` or
``curation.restore``), so a deny over thousands of mirrored releases is one short
transaction, as a sync page is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from mcpreg.db.curation_tables import StatusOverride
from mcpreg.db.deploy_tables import DeploymentState
from mcpreg.db.mirror_tables import MirroredRelease
from mcpreg.db.tables import Release, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.services import running
from mcpreg.services.curation.state import hold_pins
from mcpreg.services.importer import recompute_latest_bulk

WITHHELD = "withheld by curation"
_CHUNK = 900  # bound parameters per IN (...) list, under SQLite's limit
_RELEASE: sa.Table = SQLModel.metadata.tables["release"]
_JOURNAL: sa.Table = SQLModel.metadata.tables["journal"]


class _Mirrored(NamedTuple):
    release_id: int
    server_id: int
    server_name: str
    version: str
    status: str
    status_message: str | None
    upstream_status: str
    upstream_message: str | None


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _mirrored(session: Session, names: list[str]) -> list[_Mirrored]:
    query = sa.select(
        col(Release.id),
        col(Release.server_id),
        col(Release.server_name),
        col(Release.version),
        col(Release.status),
        col(Release.status_message),
        col(MirroredRelease.upstream_status),
        col(MirroredRelease.upstream_status_message),
    ).join(MirroredRelease, col(MirroredRelease.release_id) == col(Release.id))
    found: list[_Mirrored] = []
    for chunk in _chunks(sorted(names)):
        rows = session.execute(query.where(col(MirroredRelease.server_name).in_(chunk)))
        found.extend(_Mirrored(*row) for row in rows)
    return found


def _refuse_running(session: Session, rows: list[_Mirrored]) -> None:
    """409 ``release_in_use`` for the first server one of whose ``rows`` runs somewhere."""
    names = sorted({r.server_name for r in rows})
    deployed: set[str] = set()
    for chunk in _chunks(names):
        query = select(DeploymentState.server_name).where(col(DeploymentState.server_name).in_(chunk))
        deployed.update(session.exec(query.distinct()))
    for name in sorted(deployed):
        server = session.exec(select(Server).where(Server.name == name)).one()
        where = running.placements(session, server, {r.version for r in rows if r.server_name == name})
        running.refuse_deleting_running(server, where)


def _write(
    session: Session,
    principal: Principal,
    action: str,
    names: list[str],
    changes: list[tuple[_Mirrored, str, str | None]],
) -> None:
    now = utcnow()
    if changes:
        session.connection().execute(
            sa.update(_RELEASE)
            .where(_RELEASE.c.id == sa.bindparam("rid"))
            .values(
                status=sa.bindparam("new_status"),
                status_message=sa.bindparam("new_message"),
                status_changed_at=sa.bindparam("now"),
                updated_at=sa.bindparam("now"),
            ),
            [{"rid": r.release_id, "new_status": s, "new_message": m, "now": now} for r, s, m in changes],
        )
        touched = {r.server_id for r, _s, _m in changes}
        recompute_latest_bulk(session, touched)
        hold_pins(session, touched)
    versions: dict[str, list[str]] = {name: [] for name in names}
    for row, _status, _message in changes:
        versions[row.server_name].append(row.version)
    entries = [
        {
            "at": now,
            "actor": principal.name,
            "action": action,
            "server_name": name,
            "after": orjson.dumps({"versions": versions[name]}).decode(),
        }
        for name in sorted(names)
    ]
    if entries:
        session.execute(sa.insert(_JOURNAL), entries)
    session.expire_all()  # the ORM's copies of the releases written above


def withhold(session: Session, principal: Principal, names: list[str], *, force: bool) -> None:
    rows = [r for r in _mirrored(session, names) if r.status != "deleted"]
    if not force:
        _refuse_running(session, rows)
    _write(session, principal, "curation.withhold", names, [(r, "deleted", WITHHELD) for r in rows])


def restore(session: Session, principal: Principal, names: list[str]) -> None:
    rows = _mirrored(session, names)
    local: dict[int, tuple[str, str | None]] = {}
    for chunk in _chunks([r.release_id for r in rows]):
        query = select(StatusOverride).where(col(StatusOverride.release_id).in_(chunk))
        local.update({o.release_id: (o.status, o.status_message) for o in session.exec(query)})
    changes = []
    for row in rows:
        status, message = local.get(row.release_id, (row.upstream_status, row.upstream_message))
        if (row.status, row.status_message) != (status, message):
            changes.append((row, status, message))
    _write(session, principal, "curation.restore", names, changes)
