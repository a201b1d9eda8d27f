"""Bulk import of server.json documents (lists, saved API pages, the 2025-05 legacy format).

Works in batches: one query finds the servers and versions that already exist, new
releases go in with one flush, and ``latest`` is recomputed once per touched server.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.tables import JournalEntry, Release, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.legacy import ImportItem
from mcpreg.domain.principal import Principal
from mcpreg.domain.serverjson import validate_server_json
from mcpreg.domain.versions import parse_version, pick_latest
from mcpreg.errors import RegistryError
from mcpreg.services import journal
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
    for batch in _batches(items, BATCH):
        _import_batch(session, principal, batch, report)
        if progress is not None:
            progress(len(batch))
    if report.landed:
        journal.record(session, principal, "import", after={"landed": len(report.landed)})
    return report


def _import_batch(
    session: Session, principal: Principal, batch: list[ImportItem], report: ImportReport
) -> None:
    now = utcnow()
    ready: list[tuple[ImportItem, dict[str, object], str, str, bool]] = []
    for item in batch:
        for note in getattr(item, "notes", ()):
            report.notes.append((item.label, note))
        if item.skip_reason is not None or item.document is None:
            report.skipped.append((item.label, item.skip_reason or "no document"))
            continue
        try:
            validate_server_json(item.document)
            version = parse_version(item.document["version"], field="/version")
            require(principal, "publish", server=item.document["name"])
        except RegistryError as exc:
            where = f" at {exc.field}" if exc.field else ""
            report.skipped.append((item.label, f"{exc.code}{where}: {exc.detail}"))
            continue
        ready.append((item, item.document, version.text, version.key, version.is_prerelease))
    if not ready:
        return
    names = sorted({str(doc["name"]) for _, doc, *_ in ready})
    servers = {s.name: s for s in session.exec(select(Server).where(col(Server.name).in_(names)))}
    for name in names:
        if name not in servers:
            servers[name] = Server(name=name, created_at=now, updated_at=now)
            session.add(servers[name])
    session.flush()
    ids = [s.id for s in servers.values()]
    taken: set[tuple[int | None, str]] = set(
        session.execute(
            sa.select(col(Release.server_id), col(Release.version_key)).where(col(Release.server_id).in_(ids))
        ).all()
    )
    rows = []
    for item, doc, text, key, prerelease in ready:
        server = servers[str(doc["name"])]
        if (server.id, key) in taken:
            report.skipped.append(
                (item.label, "version_exists: this version (or one differing only in build) exists")
            )
            continue
        taken.add((server.id, key))
        status = item.status if item.status in ("active", "deprecated", "deleted") else "active"
        rows.append(
            Release(
                server_id=server.id or 0,
                server_name=server.name,
                version=text,
                version_key=key,
                is_prerelease=prerelease,
                status=status,
                status_changed_at=now,
                published_at=now,
                created_at=now,
                updated_at=now,
                description=str(doc.get("description", ""))[:200],
                document=orjson.dumps(doc).decode(),
                created_by=principal.name,
            )
        )
        report.landed.append(item.label)
    session.add_all(rows)
    session.add_all(
        JournalEntry(
            actor=principal.name,
            action="release.import",
            server_name=r.server_name,
            version=r.version,
            after=orjson.dumps({"status": r.status}).decode(),
        )
        for r in rows
    )
    session.flush()
    touched = {r.server_id for r in rows}
    if touched:
        _recompute_latest_bulk(session, touched)


def _recompute_latest_bulk(session: Session, server_ids: set[int]) -> None:
    active: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for release_id, server_id, version in session.execute(
        sa.select(col(Release.id), col(Release.server_id), col(Release.version)).where(
            col(Release.server_id).in_(server_ids),
            col(Release.status) == "active",
        )
    ):
        active[server_id].append((release_id, version))
    winners = []
    for entries in active.values():
        by_version = {parse_version(v): rid for rid, v in entries}
        best = pick_latest(by_version)
        if best is not None:
            winners.append(by_version[best])
    session.execute(
        sa.update(Release)
        .where(col(Release.server_id).in_(server_ids), col(Release.is_latest).is_(True))
        .values(is_latest=False)
    )
    for start in range(0, len(winners), 900):
        session.execute(
            sa.update(Release).where(col(Release.id).in_(winners[start : start + 900])).values(is_latest=True)
        )
