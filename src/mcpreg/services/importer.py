"""Bulk import of server.json documents (lists, saved API pages, the 2025-05 legacy format).

Works in batches of Core statements, no ORM objects: one query finds the servers and
versions that already exist, new servers and releases go in with one executemany each,
every release gets its journal entry in one more, and ``latest`` is recomputed once per
touched server from ``(is_prerelease, version_key)`` without parsing a version again.
A document :func:`~mcpreg.domain.legacy.iter_import_documents` already validated is not
validated twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col

from mcpreg.db.tables import JournalEntry, Release, RemoteUrl, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.legacy import ImportItem
from mcpreg.domain.principal import Principal
from mcpreg.domain.serverjson import validate_server_json
from mcpreg.domain.versions import Version, parse_version
from mcpreg.errors import RegistryError
from mcpreg.services import journal, ownership
from mcpreg.services.curation.state import hold_pins
from mcpreg.services.publish_checks import remote_rows
from mcpreg.services.tokens import require

BATCH = 500


@dataclass
class ImportReport:
    landed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "landed": len(self.landed),
            "skipped": [{"entry": label, "reason": reason} for label, reason in self.skipped],
            "notes": [{"entry": label, "note": note} for label, note in self.notes],
        }


def _batches(items: Iterable[ImportItem], size: int) -> Iterable[list[ImportItem]]:
    batch: list[ImportItem] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_items(
    session: Session,
    principal: Principal,
    items: Iterable[ImportItem],
    *,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every item it can; every other item is reported with the reason it was skipped."""
    report = ImportReport()
    names = ownership.local_names(session)  # names an upstream owns or mirrored are skipped
    for batch in _batches(items, BATCH):
        _import_batch(session, principal, batch, report, names)
        if progress is not None:
            progress(len(batch))
    if report.landed:
        journal.record(session, principal, "import", after={"landed": len(report.landed)})
    return report


_STATUSES = ("active", "deprecated", "deleted")
_CHUNK = 900  # bound parameters per IN (...) list, under SQLite's limit
# Core tables: executemany of plain dicts, with no ORM object built per row.
_RELEASE: sa.Table = Release.__table__  # type: ignore[attr-defined]
_SERVER: sa.Table = Server.__table__  # type: ignore[attr-defined]
_JOURNAL: sa.Table = JournalEntry.__table__  # type: ignore[attr-defined]


def _ready(
    principal: Principal, batch: list[ImportItem], report: ImportReport, names: ownership.LocalNames
) -> list[tuple[ImportItem, dict[str, Any], Version]]:
    """The items that can land: documents checked once, versions parsed once."""
    ready: list[tuple[ImportItem, dict[str, Any], Version]] = []
    for item in batch:
        for note in item.notes:
            report.notes.append((item.label, note))
        if item.skip_reason is not None or item.document is None:
            report.skipped.append((item.label, item.skip_reason or "no document"))
            continue
        try:
            if not item.validated:
                validate_server_json(item.document)
            version = parse_version(item.document["version"], field="/version")
            require(principal, "publish", server=item.document["name"])
            refused = names.refusal(str(item.document["name"]))
            if refused is not None:
                raise refused
        except RegistryError as exc:
            where = f" at {exc.field}" if exc.field else ""
            report.skipped.append((item.label, f"{exc.code}{where}: {exc.detail}"))
            continue
        ready.append((item, item.document, version))
    return ready


def _server_ids(session: Session, names: list[str]) -> dict[str, int]:
    """Ids of the named servers, creating the missing ones."""
    query = sa.select(col(Server.name), col(Server.id))
    known: dict[str, int] = {}
    for start in range(0, len(names), _CHUNK):
        chunk = names[start : start + _CHUNK]
        known.update(
            (name, server_id) for name, server_id in session.execute(query.where(col(Server.name).in_(chunk)))
        )
    missing = [name for name in names if name not in known]
    if missing:
        now = utcnow()
        session.execute(
            sa.insert(_SERVER), [{"name": name, "created_at": now, "updated_at": now} for name in missing]
        )
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            known.update(
                (name, server_id)
                for name, server_id in session.execute(query.where(col(Server.name).in_(chunk)))
            )
    return known


def _import_batch(
    session: Session,
    principal: Principal,
    batch: list[ImportItem],
    report: ImportReport,
    names: ownership.LocalNames,
) -> None:
    ready = _ready(principal, batch, report, names)
    if not ready:
        return
    server_ids = _server_ids(session, sorted({str(doc["name"]) for _, doc, _ in ready}))
    ids = list(server_ids.values())
    taken: set[tuple[int, str]] = set()
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            sa.select(col(Release.server_id), col(Release.version_key)).where(
                col(Release.server_id).in_(ids[start : start + _CHUNK])
            )
        )
        taken.update((server_id, key) for server_id, key in rows)
    now = utcnow()
    releases: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    remotes: list[dict[str, str]] = []
    for item, doc, version in ready:
        name = str(doc["name"])
        server_id = server_ids[name]
        if (server_id, version.key) in taken:
            report.skipped.append(
                (item.label, "version_exists: this version (or one differing only in build) exists")
            )
            continue
        taken.add((server_id, version.key))
        status = item.status if item.status in _STATUSES else "active"
        releases.append(
            {
                "server_id": server_id,
                "server_name": name,
                "version": version.text,
                "version_key": version.key,
                "is_prerelease": version.is_prerelease,
                "status": status,
                "status_changed_at": now,
                "published_at": now,
                "created_at": now,
                "updated_at": now,
                "is_latest": False,
                "description": str(doc.get("description", ""))[:200],
                "document": orjson.dumps(doc).decode(),
                "created_by": principal.name,
            }
        )
        entries.append(
            {
                "at": now,
                "actor": principal.name,
                "action": "release.import",
                "server_name": name,
                "version": version.text,
                "after": orjson.dumps({"status": status}).decode(),
            }
        )
        remotes.extend(remote_rows(name, version.key, doc))
        report.landed.append(item.label)
    if not releases:
        return
    session.execute(sa.insert(_RELEASE), releases)
    if remotes:
        session.execute(sa.insert(RemoteUrl), remotes)
    session.execute(sa.insert(_JOURNAL), entries)
    touched = {r["server_id"] for r in releases}
    recompute_latest_bulk(session, touched)
    hold_pins(session, touched)  # a pinned server keeps its latest (curation)


def recompute_latest_bulk(session: Session, server_ids: set[int]) -> None:
    """``latest`` of many servers: the highest active stable, else pre-release, version.

    ``version_key`` orders by SemVer precedence, so no version is parsed; only rows whose
    flag changes are written, by primary key.
    """
    ordered = sorted(server_ids)
    best: dict[int, tuple[bool, str, int]] = {}
    flagged: set[int] = set()
    columns = (
        col(Release.id),
        col(Release.server_id),
        col(Release.is_prerelease),
        col(Release.version_key),
        col(Release.is_latest),
        col(Release.status),
    )
    for start in range(0, len(ordered), _CHUNK):
        rows = session.execute(
            sa.select(*columns).where(col(Release.server_id).in_(ordered[start : start + _CHUNK]))
        )
        for release_id, server_id, prerelease, key, is_latest, status in rows:
            if is_latest:
                flagged.add(release_id)
            if status != "active":
                continue
            rank = (not prerelease, key, release_id)
            if server_id not in best or rank > best[server_id]:
                best[server_id] = rank
    winners = {rank[2] for rank in best.values()}
    for ids, value in ((sorted(flagged - winners), False), (sorted(winners - flagged), True)):
        for start in range(0, len(ids), _CHUNK):
            session.execute(
                sa.update(_RELEASE)
                .where(_RELEASE.c.id.in_(ids[start : start + _CHUNK]))
                .values(is_latest=value)
            )
