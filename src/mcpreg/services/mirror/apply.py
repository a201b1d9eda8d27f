"""Applying one page of upstream entries, in the caller's transaction, with no ORM objects.

Each entry is added (a new release and its provenance), updated (its upstream status or
document changed), counted unchanged, skipped (outside the upstream's namespaces, or kept
out by curation's allow/deny lists) or refused (it fails mcpreg's rules, or clashes with a
release that is local or another upstream's). Every check runs before any write, so a
refused entry leaves nothing behind; the page's writes are a few executemany statements,
and ``latest`` is recomputed once per touched server (``importer.recompute_latest_bulk``,
then curation's pins).

In a full sync (``full_pass``, see ``reconcile``) every entry the page lists, skipped ones
included, marks its mirrored release as listed by the pass; a release marked vanished that
is listed again gets the upstream's status back (``release.mirror.reappear``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from mcpreg.db.mirror_tables import MirroredRelease, Upstream
from mcpreg.db.tables import Release, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.mirror import Coverage
from mcpreg.services import journal
from mcpreg.services.curation import CurationPolicy
from mcpreg.services.curation.state import hold_pins
from mcpreg.services.importer import recompute_latest_bulk
from mcpreg.services.mirror.entries import Entry, Refusal, check, read_entry
from mcpreg.services.mirror.pages import release_url
from mcpreg.services.mirror.reconcile import mark_listed
from mcpreg.services.publish_checks import remote_rows

_TABLES = SQLModel.metadata.tables
_RELEASE, _SERVER, _MIRRORED = _TABLES["release"], _TABLES["server"], _TABLES["mirrored_release"]
_JOURNAL, _REMOTE, _REFUSED = _TABLES["journal"], _TABLES["remote_url"], _TABLES["refused_entry"]
_CHUNK = 900  # bound parameters per IN (...) list, under SQLite's limit


@dataclass
class PageResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    skipped: int = 0
    high: datetime | None = None  # the highest upstream updatedAt on the page
    refusals: list[Refusal] = field(default_factory=list)
    passed_over: list[tuple[str, str]] = field(default_factory=list)  # the skipped (name, version)s


@dataclass(frozen=True)
class _Stored:
    release_id: int
    server_id: int
    version: str
    key: str
    upstream_id: int | None
    upstream_status: str | None
    upstream_message: str | None
    upstream_updated_at: datetime | None
    listed_pass: int | None
    vanished_at: datetime | None


def _documents(session: Session, ids: list[int]) -> dict[int, str]:
    """The stored documents of the given releases, by release id."""
    found: dict[int, str] = {}
    for start in range(0, len(ids), _CHUNK):
        query = sa.select(col(Release.id), col(Release.document)).where(
            col(Release.id).in_(ids[start : start + _CHUNK])
        )
        found.update((rid, doc) for rid, doc in session.execute(query))
    return found


def _stored(session: Session, names: list[str]) -> dict[str, dict[str, _Stored]]:
    """The releases of the named servers, by name and version, with their provenance."""
    query = sa.select(
        col(Release.id),
        col(Release.server_id),
        col(Release.server_name),
        col(Release.version),
        col(Release.version_key),
        col(MirroredRelease.upstream_id),
        col(MirroredRelease.upstream_status),
        col(MirroredRelease.upstream_status_message),
        col(MirroredRelease.upstream_updated_at),
        col(MirroredRelease.listed_pass),
        col(MirroredRelease.vanished_at),
    ).outerjoin(MirroredRelease, col(MirroredRelease.release_id) == col(Release.id))
    found: dict[str, dict[str, _Stored]] = {}
    for start in range(0, len(names), _CHUNK):
        rows = session.execute(query.where(col(Release.server_name).in_(names[start : start + _CHUNK])))
        for rid, sid, name, version, key, *provenance in rows:
            found.setdefault(name, {})[version] = _Stored(rid, sid, version, key, *provenance)
    return found


def _server_ids(session: Session, names: list[str], now: datetime) -> dict[str, int]:
    query = sa.select(col(Server.name), col(Server.id)).where(col(Server.name).in_(names))
    known: dict[str, int] = {name: sid for name, sid in session.execute(query)}
    missing = [n for n in names if n not in known]
    if missing:
        session.execute(
            sa.insert(_SERVER), [{"name": n, "created_at": now, "updated_at": now} for n in missing]
        )
        known = {name: sid for name, sid in session.execute(query)}
    return known


class PageApplier:
    """Applies pages of one upstream during one run; curation is read once, by the caller."""

    def __init__(
        self,
        upstream: Upstream,
        coverage: Coverage,
        policy: CurationPolicy,
        *,
        run_id: int,
        actor: str,
        thorough: bool = False,
        private_remotes: bool = False,
        full_pass: int | None = None,
    ) -> None:
        assert upstream.id is not None
        self._full_pass = full_pass  # the listing pass this run's pages belong to, if full
        self._private_remotes = private_remotes
        self.upstream_id = upstream.id
        self._base_url = upstream.base_url
        self._coverage = coverage
        self._policy = policy
        self._run_id = run_id
        self._actor = actor
        self._thorough = thorough

    def _admitted(self, raw: list[Any], result: PageResult, now: datetime) -> list[Entry]:
        entries: dict[tuple[str, str], Entry] = {}
        for item in raw:
            entry = read_entry(item, now)
            if isinstance(entry, Refusal):
                result.refusals.append(entry)
                continue
            if entry.updated_at is not None and (result.high is None or entry.updated_at > result.high):
                result.high = entry.updated_at
            if not self._coverage.covers(entry.name):
                result.skipped += 1
                result.passed_over.append((entry.name, entry.version))
                continue
            clash = self._policy.refusal(entry.name)
            if clash is not None:
                result.refusals.append(Refusal(entry.name, entry.version, clash))
            elif not self._policy.admits(entry.name):
                result.skipped += 1
                result.passed_over.append((entry.name, entry.version))
            else:
                entries[(entry.name, entry.version)] = entry  # a repeat on one page: the last wins
        return list(entries.values())

    def _maybe_edited(self, entries: list[Entry], stored: dict[str, dict[str, _Stored]]) -> list[int]:
        """The mirrored releases whose stored document must be compared with the entry's:
        every one in a thorough (full) sync, else those whose upstream ``updatedAt`` moved
        (the official registry moves it with every change) or that have none."""
        ids = []
        for entry in entries:
            row = stored.get(entry.name, {}).get(entry.version)
            if row is None or row.upstream_id != self.upstream_id:
                continue
            if self._thorough or entry.updated_at is None or entry.updated_at != row.upstream_updated_at:
                ids.append(row.release_id)
        return ids

    def apply(self, session: Session, raw: list[Any]) -> PageResult:
        now = utcnow()
        result = PageResult()
        entries = self._admitted(raw, result, now)
        names = sorted({e.name for e in entries})
        stored = _stored(session, names)
        documents = _documents(session, self._maybe_edited(entries, stored))
        added: list[tuple[Entry, Any]] = []
        release_updates: list[dict[str, Any]] = []
        mirror_updates: list[dict[str, Any]] = []
        touched: set[int] = set()
        journal_rows: list[dict[str, Any]] = []
        listed: list[int] = []
        for entry in entries:
            versions = stored.get(entry.name, {})
            row = versions.get(entry.version)
            if row is None:
                checked = check(entry, private_remotes=self._private_remotes)
                if isinstance(checked, Refusal):
                    result.refusals.append(checked)
                elif any(other.key == checked.key for other in versions.values()):
                    result.refusals.append(
                        Refusal(
                            entry.name,
                            entry.version,
                            "version_exists: a version differing only in build exists",
                        )
                    )
                else:
                    added.append((entry, checked))
                continue
            if row.upstream_id != self.upstream_id:
                result.refusals.append(
                    Refusal(
                        entry.name,
                        entry.version,
                        f"name clash: {entry.name}@{entry.version} is not mirrored from here",
                    )
                )
                continue
            if row.listed_pass != self._full_pass:
                listed.append(row.release_id)
            doc_changed = row.release_id in documents and documents[row.release_id] != entry.text
            status_changed = row.vanished_at is not None or (row.upstream_status, row.upstream_message) != (
                entry.status,
                entry.status_message,
            )
            if not doc_changed and not status_changed:
                result.unchanged += 1
                continue
            if doc_changed:
                checked = check(entry, private_remotes=self._private_remotes)
                if isinstance(checked, Refusal):
                    result.refusals.append(checked)
                    continue
            values: dict[str, Any] = {"rid": row.release_id, "updated_at": now}
            if doc_changed:
                values["document"] = entry.text
                values["description"] = str(entry.document.get("description", ""))[:200]
            keep_local = self._policy.keeps_local_status(entry.name, entry.version)
            if status_changed and not keep_local:
                values.update(
                    status=entry.status,
                    status_message=entry.status_message,
                    status_changed_at=entry.status_changed_at,
                )
                touched.add(row.server_id)
            release_updates.append(values)
            mirror_updates.append(
                {
                    "rid": row.release_id,
                    "upstream_status": entry.status,
                    "upstream_status_message": entry.status_message,
                    "upstream_updated_at": entry.updated_at,
                    "synced_at": now,
                    "vanished_at": None,
                }
            )
            action = "release.mirror.update" if row.vanished_at is None else "release.mirror.reappear"
            journal_rows.append(self._journal(entry, action, now))
            result.updated += 1
        if added:
            touched |= self._insert(session, added, now, journal_rows)
            result.added = len(added)
        self._update(session, release_updates, mirror_updates)
        if self._full_pass is not None:
            mark_listed(session, self.upstream_id, self._full_pass, listed, result.passed_over)
        if result.refusals:
            session.execute(sa.insert(_REFUSED), [self._refused(r, now) for r in result.refusals])
            result.refused = len(result.refusals)
        if journal_rows:
            session.execute(sa.insert(_JOURNAL), journal_rows)
        if touched:
            recompute_latest_bulk(session, touched)
            hold_pins(session, touched)
        if added or release_updates:
            journal.record(
                session,
                self._actor,
                "mirror.page",
                after={"run": self._run_id, "added": result.added, "updated": result.updated},
            )
        return result

    def _journal(self, entry: Entry, action: str, now: datetime) -> dict[str, Any]:
        return {
            "at": now,
            "actor": self._actor,
            "action": action,
            "server_name": entry.name,
            "version": entry.version,
            "after": orjson.dumps({"status": entry.status, "run": self._run_id}).decode(),
        }

    def _refused(self, refusal: Refusal, now: datetime) -> dict[str, Any]:
        return {
            "upstream_id": self.upstream_id,
            "run_id": self._run_id,
            "server_name": refusal.name[:500],
            "version": refusal.version[:500],
            "reason": refusal.reason,
            "at": now,
        }

    def _insert(
        self,
        session: Session,
        added: list[tuple[Entry, Any]],
        now: datetime,
        journal_rows: list[dict[str, Any]],
    ) -> set[int]:
        server_ids = _server_ids(session, sorted({e.name for e, _ in added}), now)
        rows = [
            {
                "server_id": server_ids[entry.name],
                "server_name": entry.name,
                "version": entry.version,
                "version_key": version.key,
                "is_prerelease": version.is_prerelease,
                "status": entry.status,
                "status_message": entry.status_message,
                "status_changed_at": entry.status_changed_at,
                "published_at": entry.published_at,
                "created_at": now,
                "updated_at": now,
                "is_latest": False,
                "description": str(entry.document.get("description", ""))[:200],
                "document": entry.text,
                "created_by": self._actor,
            }
            for entry, version in added
        ]
        ids = (
            session.execute(sa.insert(_RELEASE).returning(_RELEASE.c.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
        session.execute(
            sa.insert(_MIRRORED),
            [
                {
                    "release_id": rid,
                    "upstream_id": self.upstream_id,
                    "server_name": entry.name,
                    "version": entry.version,
                    "semver": version.semver,
                    "source_url": release_url(self._base_url, entry.name, entry.version),
                    "synced_at": now,
                    "upstream_status": entry.status,
                    "upstream_status_message": entry.status_message,
                    "upstream_updated_at": entry.updated_at,
                    "listed_pass": self._full_pass,
                }
                for rid, (entry, version) in zip(ids, added, strict=True)
            ],
        )
        remotes = [
            r for entry, version in added for r in remote_rows(entry.name, version.key, entry.document)
        ]
        if remotes:
            session.execute(sa.insert(_REMOTE), remotes)
        journal_rows.extend(self._journal(entry, "release.mirror", now) for entry, _ in added)
        return set(server_ids.values())

    def _update(
        self,
        session: Session,
        release_updates: list[dict[str, Any]],
        mirror_updates: list[dict[str, Any]],
    ) -> None:
        connection = session.connection()
        # executemany needs one set of columns per statement: group the updates by theirs.
        # The parameters are named ``new_<column>``: a SET parameter may not be named as its column.
        groups: list[tuple[sa.Table, str, list[dict[str, Any]]]] = []
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values in release_updates:
            by_columns.setdefault(tuple(sorted(values)), []).append(values)
        groups.extend((_RELEASE, "id", group) for group in by_columns.values())
        if mirror_updates:
            groups.append((_MIRRORED, "release_id", mirror_updates))
        for table, key, group in groups:
            columns = [c for c in group[0] if c != "rid"]
            statement = (
                sa.update(table)
                .where(table.c[key] == sa.bindparam("rid"))
                .values({c: sa.bindparam(f"new_{c}") for c in columns})
            )
            connection.execute(
                statement, [{"rid": v["rid"], **{f"new_{c}": v[c] for c in columns}} for v in group]
            )
