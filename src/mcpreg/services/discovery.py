"""Read side of the registry: listing with keyset cursors, versions, lookups by ref.

Lists are ordered by server name, then by SemVer precedence newest first, using the
indexed ``version_key``; no list sorts versions as strings.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.tables import Channel, Release, Server
from mcpreg.domain.versions import LATEST, max_satisfying, parse_version
from mcpreg.errors import NotFound, ValidationFailed
from mcpreg.services.releases import DRAFT, get_server
from mcpreg.services.views import server_response

DEFAULT_LIMIT = 30
MAX_LIMIT = 100


@dataclass(frozen=True)
class ListQuery:
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT
    search: str | None = None
    updated_since: datetime | None = None
    version: str | None = None
    include_deleted: bool = False


def encode_cursor(name: str, key: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([name, key])).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, key = orjson.loads(raw)
        if not isinstance(name, str) or not isinstance(key, str):
            raise ValueError
    except (ValueError, binascii.Error, TypeError, orjson.JSONDecodeError):
        raise ValidationFailed(
            "cursor must be the exact value of a previous metadata.nextCursor",
            field="cursor",
            code="invalid_cursor",
        ) from None
    return name, key


def _visible(query: Any, include_deleted: bool) -> Any:
    query = query.where(Release.status != DRAFT)
    if not include_deleted:
        query = query.where(Release.status != "deleted")
    return query


def list_servers(session: Session, q: ListQuery) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``ServerResponse`` entries and the cursor of the next page."""
    include_deleted = q.include_deleted or q.updated_since is not None
    query = _visible(select(Release), include_deleted)
    if q.version == LATEST:
        query = query.where(col(Release.is_latest).is_(True))
    elif q.version:
        query = query.where(Release.version_key == parse_version(q.version, field="version").key)
    if q.search:
        needle = q.search.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(Release.server_name).contains(needle, autoescape=True),
                sa.func.lower(Release.description).contains(needle, autoescape=True),
            )
        )
    if q.updated_since is not None:
        query = query.where(Release.updated_at >= q.updated_since)
    if q.cursor:
        name, key = decode_cursor(q.cursor)
        query = query.where(
            sa.or_(
                col(Release.server_name) > name,
                sa.and_(col(Release.server_name) == name, col(Release.version_key) < key),
            )
        )
    query = query.order_by(Release.server_name, col(Release.version_key).desc()).limit(q.limit + 1)
    rows = list(session.exec(query))
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = encode_cursor(rows[-1].server_name, rows[-1].version_key) if more and rows else None
    return [server_response(r) for r in rows], next_cursor


def list_versions(session: Session, name: str, *, include_deleted: bool = False) -> list[Release]:
    """Every published version of a server, newest first by SemVer precedence."""
    server = get_server(session, name)
    query = _visible(select(Release).where(Release.server_id == server.id), include_deleted)
    rows: list[Release] = list(session.exec(query.order_by(col(Release.version_key).desc())))
    if not rows:
        raise NotFound(f"server {name!r} not found", field="serverName", code="server_not_found")
    return rows


def channel_release(session: Session, server: Server, channel: str) -> Release | None:
    if channel == LATEST:
        return session.exec(
            select(Release).where(Release.server_id == server.id, col(Release.is_latest).is_(True))
        ).first()
    return session.exec(
        select(Release)
        .join(Channel, col(Channel.release_id) == col(Release.id))
        .where(Channel.server_id == server.id, Channel.name == channel)
    ).first()


def lookup(
    session: Session, name: str, ref: str, *, include_deleted: bool = False, include_drafts: bool = False
) -> Release:
    """A release by exact version, ``latest`` or a channel name."""
    server = get_server(session, name)
    release: Release | None
    try:
        parsed = parse_version(ref)
    except ValidationFailed:
        release = channel_release(session, server, ref)
        if release is None:
            raise NotFound(
                f"{name} has no version or channel {ref!r}", field="version", code="version_not_found"
            ) from None
    else:
        release = session.exec(
            select(Release).where(Release.server_id == server.id, Release.version_key == parsed.key)
        ).first()
        if release is not None and parsed.build is not None and release.version != ref:
            release = None
    if (
        release is None
        or (release.status == DRAFT and not include_drafts)
        or (release.status == "deleted" and not include_deleted)
    ):
        raise NotFound(f"{name} has no version {ref!r}", field="version", code="version_not_found")
    return release


def resolve_range(session: Session, name: str, range_text: str, *, prerelease: bool = False) -> Release:
    """The highest active release inside an npm-style range."""
    server = get_server(session, name)
    rows = list(
        session.exec(select(Release).where(Release.server_id == server.id, Release.status == "active"))
    )
    by_version = {parse_version(r.version): r for r in rows}
    best = max_satisfying(by_version, range_text, prerelease=prerelease)
    if best is None:
        raise NotFound(
            f"no active release of {name} satisfies {range_text!r}"
            + ("" if prerelease else " (pre-releases need prerelease=true)"),
            field="range",
            code="no_matching_version",
        )
    return by_version[best]
