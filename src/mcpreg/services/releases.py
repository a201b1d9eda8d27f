"""Publishing and the release lifecycle: drafts, publish, edit, duplicate, status.

Published releases are immutable, version numbers are never reused (rows are never
removed and (server, precedence) is unique), and ``latest`` is recomputed in the same
transaction as every change that can move it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.tables import Release, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.domain.serverjson import validate_server_json
from mcpreg.domain.versions import Version, parse_version, try_parse_version
from mcpreg.errors import BadRequest, Conflict, NotFound, ValidationFailed
from mcpreg.services import journal, publish_checks, running
from mcpreg.services.curation import state as curation
from mcpreg.services.tokens import require


def _id(value: int | None) -> int:
    assert value is not None, "flushed rows have ids"
    return value


STATUSES = ("active", "deprecated", "deleted")
DRAFT = "draft"


def _encode(doc: dict[str, Any]) -> str:
    return orjson.dumps(doc).decode()


def find_server(session: Session, name: str, *, lock: bool = False) -> Server | None:
    query = select(Server).where(Server.name == name)
    if lock:
        query = query.with_for_update()
    return session.exec(query).first()


def _locked_or_created_server(session: Session, name: str, now: datetime) -> Server:
    """The server row of ``name``, locked; created when this is its first release.

    Two first publishes of one new server may both find no row. The insert runs in a
    savepoint: the one that loses meets the winner's unique name (PostgreSQL makes it
    wait for the winner's commit), rolls back only the savepoint, which also drops the
    pending row from the session, and locks the winner's row instead.
    """
    server = find_server(session, name, lock=True)
    if server is not None:
        return server
    try:
        with session.begin_nested():
            server = Server(name=name, created_at=now, updated_at=now)
            session.add(server)
    except sa.exc.IntegrityError:
        return get_server(session, name, lock=True)
    return server


def get_server(session: Session, name: str, *, lock: bool = False) -> Server:
    server = find_server(session, name, lock=lock)
    if server is None:
        raise NotFound(f"server {name!r} not found", field="serverName", code="server_not_found")
    return server


def find_release(session: Session, server: Server, version: str) -> Release | None:
    """The release with exactly this version, or with the same precedence when no build is given.

    A version that is not SemVer names only a mirrored release stored with exactly that text
    (the official registry accepts any version); otherwise it is ``invalid_version``.
    """
    if try_parse_version(version) is None:
        stored = session.exec(
            select(Release).where(Release.server_id == server.id, Release.version == version)
        ).first()
        if stored is not None:
            return stored
    parsed = parse_version(version, field="version")
    row = session.exec(
        select(Release).where(Release.server_id == server.id, Release.version_key == parsed.key)
    ).first()
    if row is not None and parsed.build is not None and row.version != version:
        return None
    return row


def get_release(session: Session, server: Server, version: str) -> Release:
    row = find_release(session, server, version)
    if row is None:
        raise NotFound(f"{server.name} has no version {version!r}", field="version", code="version_not_found")
    return row


def _checked_document(doc: object, private_remotes: bool = False) -> tuple[dict[str, Any], Version]:
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a server.json object", field="/", code="invalid_body")
    validate_server_json(doc, private_remotes=private_remotes)
    version = parse_version(doc["version"], field="/version")
    return doc, version


def recompute_latest(session: Session, server: Server) -> Release | None:
    """Mark the highest active stable (else pre-release) version as latest; return it.

    ``version_key`` orders by SemVer precedence, so the winner is one indexed query over
    this server's releases: stable before pre-release, then the highest key. A pin holds
    it on the pinned release instead (``curation.state.pinned_release``).
    """
    winner = curation.pinned_release(session, server)
    if winner is None:
        winner = session.exec(
            select(Release)
            .where(Release.server_id == server.id, Release.status == "active")
            .order_by(col(Release.is_prerelease), col(Release.version_key).desc())
            .limit(1)
        ).first()
    clear = sa.update(Release).where(
        col(Release.is_latest) == sa.true(), col(Release.server_name) == server.name
    )
    if winner is not None:
        clear = clear.where(col(Release.id) != winner.id)
    session.execute(clear.values(is_latest=False))
    if winner is not None and not winner.is_latest:
        winner.is_latest = True
        session.add(winner)
    return winner


def latest_version(session: Session, server: Server) -> str | None:
    return session.exec(
        select(Release.version).where(col(Release.is_latest) == sa.true(), Release.server_name == server.name)
    ).first()


def create_release(
    session: Session,
    principal: Principal,
    doc: object,
    *,
    draft: bool = False,
    status: str = "active",
    action: str | None = None,
    official_rules: bool = False,
    private_remotes: bool = False,
) -> Release:
    """Publish (or draft) a new version. Refuses reused versions, even deleted ones.

    ``official_rules`` adds the official registry's publish-time refusals (a missing
    ``$schema``, a forge URL naming no repository, an oversized ``_meta`` block, a remote
    URL another server serves): what ``/v0.1/publish`` and new drafts go through.
    ``private_remotes`` (``MCPREG_ALLOW_PRIVATE_REMOTES``) allows http and local remotes.
    """
    if official_rules and isinstance(doc, dict):
        publish_checks.check_publishable_document(doc)
    document, version = _checked_document(doc, private_remotes)
    name = document["name"]
    require(principal, "publish", server=name)
    publish_checks.check_local_name(session, name)
    if official_rules:
        publish_checks.check_remote_urls(session, document)
    now = utcnow()
    server = _locked_or_created_server(session, name, now)
    existing = session.exec(
        select(Release).where(Release.server_id == server.id, Release.version_key == version.key)
    ).first()
    if existing is not None:
        raise Conflict(
            f"{name} already has version {existing.version} ({existing.status}); "
            "version numbers are never reused, and build metadata does not make a version new",
            field="/version",
            code="version_exists",
        )
    release = Release(
        server_id=_id(server.id),
        server_name=name,
        version=version.text,
        version_key=version.key,
        is_prerelease=version.is_prerelease,
        status=DRAFT if draft else status,
        status_changed_at=now,
        published_at=None if draft else now,
        created_at=now,
        updated_at=now,
        description=document.get("description", "")[:200],
        document=_encode(document),
        created_by=principal.name,
    )
    session.add(release)
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(
            f"{name} already has version {version.text}", field="/version", code="version_exists"
        ) from None
    publish_checks.record_remote_urls(session, name, version.key, document)
    before_latest = latest_version(session, server)
    after_latest = before_latest
    if not draft:
        winner = recompute_latest(session, server)
        after_latest = winner.version if winner is not None else None
    server.updated_at = now
    session.add(server)
    journal.record(
        session,
        principal,
        action or ("release.draft" if draft else "release.publish"),
        server_name=name,
        version=version.text,
        before={"latest": before_latest},
        after={"status": release.status, "latest": after_latest},
    )
    return release


def update_draft(
    session: Session,
    principal: Principal,
    name: str,
    version: str,
    doc: object,
    *,
    private_remotes: bool = False,
) -> Release:
    """Replace a draft's server.json. Published releases are immutable (409).

    A body naming another server or version is refused as such (``name_mismatch``,
    ``version_mismatch``) before the immutability check, as the official registry does.
    """
    server = get_server(session, name, lock=True)
    require(principal, "publish", server=name)
    release = get_release(session, server, version)
    _check_same_release(doc, name, release)
    if release.status != DRAFT:
        raise Conflict(
            f"{name}@{release.version} is published and immutable; publish a new version or duplicate it",
            field="version",
            code="immutable_release",
        )
    document, _parsed = _checked_document(doc, private_remotes)
    before = orjson.loads(release.document)
    release.document = _encode(document)
    release.description = document.get("description", "")[:200]
    release.updated_at = utcnow()
    session.add(release)
    publish_checks.record_remote_urls(session, name, release.version_key, document)
    journal.record(
        session,
        principal,
        "release.edit",
        server_name=name,
        version=release.version,
        before=before,
        after=document,
    )
    return release


def _check_same_release(doc: object, name: str, release: Release) -> None:
    """The body of an edit names the path's server and version (whatever else is wrong)."""
    if not isinstance(doc, dict):
        return
    body_name, body_version = doc.get("name"), doc.get("version")
    if isinstance(body_name, str) and body_name != name:
        raise ValidationFailed("the body's name must match the path", field="/name", code="name_mismatch")
    if not isinstance(body_version, str):
        return
    parsed = try_parse_version(body_version)
    same = (
        body_version == release.version
        if parsed is None
        else parsed.key == release.version_key
        and (parsed.build or None) == (parse_version(release.version).build or None)
    )
    if not same:
        raise ValidationFailed(
            "the body's version must match the path; duplicate the draft to change its version",
            field="/version",
            code="version_mismatch",
        )


def publish_draft(session: Session, principal: Principal, name: str, version: str) -> Release:
    server = get_server(session, name, lock=True)
    require(principal, "publish", server=name)
    release = get_release(session, server, version)
    if release.status != DRAFT:
        raise Conflict(
            f"{name}@{release.version} is not a draft (it is {release.status})",
            field="version",
            code="not_a_draft",
        )
    document = orjson.loads(release.document)
    publish_checks.check_publishable_document(document)  # a duplicate of an imported release
    publish_checks.check_local_name(session, name)
    publish_checks.check_remote_urls(session, document)
    before_latest = latest_version(session, server)
    now = utcnow()
    release.status, release.published_at, release.status_changed_at, release.updated_at = (
        "active",
        now,
        now,
        now,
    )
    session.add(release)
    session.flush()
    recompute_latest(session, server)
    server.updated_at = now
    session.add(server)
    journal.record(
        session,
        principal,
        "release.publish",
        server_name=name,
        version=release.version,
        before={"status": DRAFT, "latest": before_latest},
        after={"status": "active", "latest": latest_version(session, server)},
    )
    return release


def duplicate(
    session: Session,
    principal: Principal,
    name: str,
    version: str,
    new_version: object,
    *,
    private_remotes: bool = False,
) -> Release:
    """Copy a release's server.json into a new draft with another version."""
    if not isinstance(new_version, str):
        raise ValidationFailed("give the new draft's version as a string", field="version")
    server = get_server(session, name)
    source = get_release(session, server, version)
    doc = orjson.loads(source.document)
    doc["version"] = new_version
    return create_release(
        session, principal, doc, draft=True, action="release.duplicate", private_remotes=private_remotes
    )


def _apply_status(release: Release, status: str, message: str | None) -> dict[str, Any]:
    before = {"status": release.status, "statusMessage": release.status_message}
    now = utcnow()
    release.status = status
    release.status_message = message
    release.status_changed_at = now
    release.updated_at = now
    return before


def _check_status(status: object, message: object) -> tuple[str, str | None]:
    if status not in STATUSES:
        raise ValidationFailed(
            f"status must be one of {', '.join(STATUSES)}", field="status", code="invalid_status"
        )
    if message is not None and (not isinstance(message, str) or len(message) > 500):
        raise ValidationFailed("statusMessage is a string of at most 500 characters", field="statusMessage")
    if status == "active" and message is not None:
        raise BadRequest(
            "status_message cannot be provided when setting status to active",
            field="statusMessage",
            code="status_message_not_allowed",
        )
    return str(status), message


def _check_force(force: object) -> bool:
    if not isinstance(force, bool):
        raise ValidationFailed("force must be true or false", field="force")
    return force


def set_status(
    session: Session,
    principal: Principal,
    name: str,
    version: str,
    status: object,
    message: object = None,
    *,
    force: object = False,
) -> Release:
    """Deprecate, delete or restore one version (the official status endpoint).

    Deleting a release that is the stable or a live canary somewhere is refused with
    ``release_in_use`` unless ``force``; a forced delete journals where it ran.
    """
    new_status, new_message = _check_status(status, message)
    forced = _check_force(force)
    server = get_server(session, name, lock=True)
    require(principal, "publish", server=name)
    release = get_release(session, server, version)
    if release.status == DRAFT and new_status != "deleted":
        raise Conflict("a draft is published, not re-statused", field="status", code="draft_status")
    if release.status == new_status and release.status_message == new_message:
        raise BadRequest(
            "No changes to apply: status and message are already set to the provided values",
            field="status",
            code="no_changes",
        )
    where = running.where_running(session, server, release) if new_status == "deleted" else []
    if where and not forced:
        running.refuse_deleting_running(server, {release.version: where})
    extra = {"forced": True, "runningIn": [p.as_dict() for p in where]} if where else {}
    before_latest = latest_version(session, server)
    before = _apply_status(release, new_status, new_message)
    session.add(release)
    session.flush()
    curation.remember_status(session, principal, release)  # a mirrored release: kept by syncs
    recompute_latest(session, server)
    server.updated_at = utcnow()
    session.add(server)
    journal.record(
        session,
        principal,
        f"release.status.{new_status}",
        server_name=name,
        version=release.version,
        before={**before, "latest": before_latest},
        after={
            "status": new_status,
            "statusMessage": new_message,
            "latest": latest_version(session, server),
            **extra,
        },
        reason=new_message,
    )
    return release


def set_status_all(
    session: Session,
    principal: Principal,
    name: str,
    status: object,
    message: object = None,
    *,
    force: object = False,
) -> list[Release]:
    """Change the status of every published version of a server in one transaction.

    Deleting them all is refused with ``release_in_use`` while any runs somewhere,
    unless ``force``.
    """
    new_status, new_message = _check_status(status, message)
    forced = _check_force(force)
    server = get_server(session, name, lock=True)
    require(principal, "publish", server=name)
    rows = list(
        session.exec(
            select(Release)
            .where(Release.server_id == server.id, Release.status != DRAFT)
            .order_by(col(Release.version_key).desc())
        )
    )
    changed = [r for r in rows if (r.status, r.status_message) != (new_status, new_message)]
    if not changed:
        raise BadRequest(
            "No changes to apply: all versions already have the requested status and message",
            field="status",
            code="no_changes",
        )
    where = (
        running.placements(session, server, {r.version for r in changed}) if new_status == "deleted" else {}
    )
    if where and not forced:
        running.refuse_deleting_running(server, where)
    extra = (
        {"forced": True, "runningIn": {v: [p.as_dict() for p in ps] for v, ps in where.items()}}
        if where
        else {}
    )
    before_latest = latest_version(session, server)
    for release in changed:
        _apply_status(release, new_status, new_message)
        session.add(release)
    session.flush()
    for release in changed:
        curation.remember_status(session, principal, release)
    recompute_latest(session, server)
    journal.record(
        session,
        principal,
        f"server.status.{new_status}",
        server_name=name,
        before={"latest": before_latest, "versions": [r.version for r in changed]},
        after={"status": new_status, "latest": latest_version(session, server), **extra},
        reason=new_message,
    )
    return rows


def all_releases(session: Session, server: Server) -> list[Release]:
    """Every release of a server, drafts and deleted ones included, newest first."""
    return list(
        session.exec(
            select(Release).where(Release.server_id == server.id).order_by(col(Release.version_key).desc())
        )
    )
