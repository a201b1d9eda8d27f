"""Reconciliation: the mirrored releases an upstream stopped listing, marked deleted here.

An incremental sync (``updated_since``) sees what changed upstream, deletions included as
the official registry marks them, but never an entry that an upstream dropped outright
(another mcpreg's admin, a registry that purges). So a **full** sync is also a listing
pass: every entry a page lists marks its mirrored release with the pass (``listed_pass``:
the run id that began it, kept in the checkpoint so a resumed run continues the same pass),
whether the entry was applied, unchanged, skipped by the namespaces or curation, or refused
for a bad new document. The transaction of the pass's **last** page then ``vanish``es the
releases of that upstream the pass did not list; a pass that ends early decides nothing.

A vanished release is an upstream deletion, with the message ``vanished upstream: ...``
and the time: the upstream's view (``mirrored_release``) says so, and the release itself
becomes deleted unless it is deleted already (an upstream deletion, or withheld by
curation) or an admin gave it a local status, which an upstream deletion never undoes
either. Pins, channels and local statuses are left as they are. ``vanished_at`` marks it,
so a later pass does not count it again; when an entry is listed again the ordinary sync
restores the upstream's status (``apply``) and clears the mark.

A pass that listed none of the releases mirrored before it began decides nothing either:
an empty or foreign listing (a misconfigured URL, an upstream restored empty) is far
likelier than an upstream that dropped everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from mcpreg.db.curation_tables import StatusOverride
from mcpreg.db.mirror_tables import MirroredRelease, SyncRun
from mcpreg.db.tables import Release
from mcpreg.domain.timestamps import rfc3339
from mcpreg.services.curation.state import hold_pins
from mcpreg.services.importer import recompute_latest_bulk

VANISHED = "vanished upstream"
_CHUNK = 900  # bound parameters per IN (...) list, under SQLite's limit
_PAIRS = 400  # (name, version) pairs per tuple IN list: two parameters each
_TABLES = SQLModel.metadata.tables
_RELEASE, _MIRRORED, _JOURNAL = _TABLES["release"], _TABLES["mirrored_release"], _TABLES["journal"]


class Vanished(NamedTuple):
    release_id: int
    server_id: int
    server_name: str
    version: str
    status: str
    local: bool  # an admin gave it a local status


def message(upstream: str, at: datetime) -> str:
    """The status message of a release ``upstream`` no longer lists, as of ``at``."""
    return f"{VANISHED}: {upstream} no longer lists it (full sync of {rfc3339(at)})"


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def mark_listed(
    session: Session,
    upstream_id: int,
    full_pass: int,
    release_ids: list[int],
    pairs: list[tuple[str, str]],
) -> None:
    """Mark the mirrored releases of ``upstream_id`` a page of pass ``full_pass`` listed:
    by release id (the entries the page applied or compared) and by (name, version) (those
    it skipped, which it never looked up). Rows marked already are not written again."""
    connection = session.connection()
    fresh = sa.or_(_MIRRORED.c.listed_pass.is_(None), _MIRRORED.c.listed_pass != full_pass)
    for chunk in _chunks(sorted(set(release_ids))):
        connection.execute(
            sa.update(_MIRRORED).where(_MIRRORED.c.release_id.in_(chunk), fresh).values(listed_pass=full_pass)
        )
    for chunk in _chunks(sorted(set(pairs)), _PAIRS):
        connection.execute(
            sa.update(_MIRRORED)
            .where(
                _MIRRORED.c.upstream_id == upstream_id,
                sa.tuple_(_MIRRORED.c.server_name, _MIRRORED.c.version).in_(chunk),
                fresh,
            )
            .values(listed_pass=full_pass)
        )


def _unlisted(session: Session, upstream_id: int, full_pass: int) -> list[Vanished]:
    rows = session.execute(
        sa.select(
            col(Release.id),
            col(Release.server_id),
            col(Release.server_name),
            col(Release.version),
            col(Release.status),
            col(StatusOverride.release_id).is_not(None),
        )
        .join(MirroredRelease, col(MirroredRelease.release_id) == col(Release.id))
        .outerjoin(StatusOverride, col(StatusOverride.release_id) == col(Release.id))
        .where(
            col(MirroredRelease.upstream_id) == upstream_id,
            col(MirroredRelease.vanished_at).is_(None),
            sa.or_(col(MirroredRelease.listed_pass).is_(None), col(MirroredRelease.listed_pass) != full_pass),
        )
        .order_by(col(Release.id))
    )
    return [Vanished(*row) for row in rows]


def _listed_any(session: Session, upstream_id: int, full_pass: int) -> bool:
    """Whether the pass listed a release mirrored before it began (run ``full_pass``)."""
    began = sa.select(col(SyncRun.started_at)).where(col(SyncRun.id) == full_pass).scalar_subquery()
    found = session.execute(
        sa.select(col(MirroredRelease.release_id))
        .join(Release, col(Release.id) == col(MirroredRelease.release_id))
        .where(
            col(MirroredRelease.upstream_id) == upstream_id,
            col(MirroredRelease.listed_pass) == full_pass,
            col(Release.created_at) < began,
        )
        .limit(1)
    ).first()
    return found is not None


def vanish(
    session: Session,
    upstream_id: int,
    upstream: str,
    full_pass: int,
    *,
    run_id: int,
    actor: str,
    now: datetime,
) -> list[Vanished]:
    """At the end of a complete full pass: mark every mirrored release of the upstream
    the pass did not list as vanished (and deleted, as above); returns them."""
    if not _listed_any(session, upstream_id, full_pass):
        return []
    gone = _unlisted(session, upstream_id, full_pass)
    if not gone:
        return []
    why = message(upstream, now)
    connection = session.connection()
    for chunk in _chunks([g.release_id for g in gone]):
        connection.execute(
            sa.update(_MIRRORED)
            .where(_MIRRORED.c.release_id.in_(chunk))
            .values(upstream_status="deleted", upstream_status_message=why, vanished_at=now, synced_at=now)
        )
    deleted = [g for g in gone if not g.local and g.status != "deleted"]
    for chunk in _chunks([g.release_id for g in deleted]):
        connection.execute(
            sa.update(_RELEASE)
            .where(_RELEASE.c.id.in_(chunk))
            .values(status="deleted", status_message=why, status_changed_at=now, updated_at=now)
        )
    session.execute(
        sa.insert(_JOURNAL),
        [
            {
                "at": now,
                "actor": actor,
                "action": "release.mirror.vanish",
                "server_name": g.server_name,
                "version": g.version,
                "before": orjson.dumps({"status": g.status}).decode(),
                "after": orjson.dumps(
                    {"status": g.status if g.local else "deleted", "upstreamStatus": "deleted", "run": run_id}
                ).decode(),
            }
            for g in gone
        ],
    )
    touched = {g.server_id for g in deleted}
    if touched:
        recompute_latest_bulk(session, touched)
        hold_pins(session, touched)
    return gone
