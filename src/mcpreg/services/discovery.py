"""Read side of the registry: listing with keyset cursors, versions, lookups by ref.

Lists are ordered by server name, then by SemVer precedence newest first, using the
indexed ``version_key``; no list sorts versions as strings. ``ix_release_listing`` holds
exactly that order, and the cursor predicate carries a plain lower bound on the name so
both SQLite and PostgreSQL start the index scan at the cursor and stop after one page.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.engine import single_read
from mcpreg.db.mirror_tables import MirroredRelease, Upstream
from mcpreg.db.tables import Channel, Release, Server
from mcpreg.domain.storable import NUL
from mcpreg.domain.versions import LATEST, max_satisfying, parse_version, try_parse_version
from mcpreg.errors import NotFound, ValidationFailed
from mcpreg.services.releases import DRAFT, get_server
from mcpreg.services.views import Published, embedded_response, server_response

Reader = Session | sa.Connection  # what a one-statement read runs on

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
        if not isinstance(name, str) or not isinstance(key, str) or NUL in name + key:
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


# The columns a ServerResponse is made of (plus the cursor's): no ORM objects for a page.
_LISTED: tuple[Any, ...] = (
    col(Release.server_name),
    col(Release.version_key),
    col(Release.version),
    col(Release.document),
    col(Release.status),
    col(Release.status_message),
    col(Release.status_changed_at),
    col(Release.published_at),
    col(Release.created_at),
    col(Release.updated_at),
    col(Release.is_latest),
    # Provenance of a mirrored release (all None for a local one): ``views.source_meta``.
    col(Upstream.name).label("mirror_upstream"),
    col(MirroredRelease.source_url).label("mirror_url"),
    col(MirroredRelease.synced_at).label("mirror_synced_at"),
)


def _listed() -> sa.Select[Any]:
    """``_LISTED`` from releases, each joined to its provenance when it has one."""
    return (
        sa.select(*_LISTED)
        .select_from(Release)
        .outerjoin(MirroredRelease, col(MirroredRelease.release_id) == col(Release.id))
        .outerjoin(Upstream, col(Upstream.id) == col(MirroredRelease.upstream_id))
    )


# Built once: a statement object reused with new parameters skips both building and
# adapting the cached compiled form to a new set of column objects.
_LATEST = _listed().where(
    col(Release.is_latest) == sa.true(), col(Release.server_name) == sa.bindparam("name")
)
_EXACT = _listed().where(
    col(Release.server_name) == sa.bindparam("name"), col(Release.version_key) == sa.bindparam("key")
)


_LATEST_OF = _listed().where(
    col(Release.is_latest) == sa.true(),
    col(Release.server_name).in_(sa.bindparam("names", expanding=True)),
)


def latest_rows(reader: Reader, names: list[str]) -> dict[str, Published]:
    """The ``latest`` release of each named server that has one, in one statement."""
    rows = reader.execute(_LATEST_OF, {"names": names}).all()
    return {row.server_name: cast(Published, row) for row in rows}


def latest_bodies(engine: sa.Engine, names: list[str]) -> dict[str, bytes]:
    """The official JSON body of each named server's ``latest``, read in one statement and
    rendered here (on the caller's worker thread, off the event loop)."""
    with single_read(engine) as connection:
        rows = latest_rows(connection, names)
    return {name: orjson.dumps(embedded_response(row)) for name, row in rows.items()}


def page_query(q: ListQuery) -> sa.Select[Any]:
    """The statement of one list page: ``limit + 1`` rows in list order from the cursor on."""
    include_deleted = q.include_deleted or q.updated_since is not None
    query = _visible(_listed(), include_deleted)
    if q.version == LATEST:
        query = query.where(col(Release.is_latest) == sa.true())
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
        query = query.where(Release.updated_at > q.updated_since)  # exclusive, as the official
    if q.cursor:
        name, key = decode_cursor(q.cursor)
        # (name, key) in list order: a later name, or the same name and a lower version.
        # The redundant ``>= name`` is the bound the planners start the index range from.
        query = query.where(
            col(Release.server_name) >= name,
            sa.or_(col(Release.server_name) > name, col(Release.version_key) < key),
        )
    order = (col(Release.server_name), col(Release.version_key).desc())
    return query.order_by(*order).limit(q.limit + 1)  # type: ignore[no-any-return]


def list_servers(
    reader: Reader, q: ListQuery, *, embed: bool = False
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``ServerResponse`` entries and the cursor of the next page.

    One statement, so ``reader`` may be a session or a Core connection. ``embed`` puts
    each stored server.json in as an ``orjson.Fragment`` (for a body that orjson
    serialises next) instead of parsing it.
    """
    rows = reader.execute(page_query(q)).all()
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    next_cursor = encode_cursor(rows[-1].server_name, rows[-1].version_key) if more and rows else None
    render = embedded_response if embed else server_response
    return [render(cast(Published, row)) for row in rows], next_cursor


def list_versions(session: Session, name: str, *, include_deleted: bool = False) -> list[Release]:
    """Every published version of a server, newest first by SemVer precedence."""
    server = get_server(session, name)
    query = _visible(select(Release).where(Release.server_id == server.id), include_deleted)
    rows: list[Release] = list(session.exec(query.order_by(col(Release.version_key).desc())))
    if not rows:
        raise NotFound(f"server {name!r} not found", field="serverName", code="server_not_found")
    return rows


def latest_release(session: Session, name: str) -> Release | None:
    """The release ``latest`` names, found through ``ix_release_latest`` in one query."""
    return session.exec(
        select(Release).where(col(Release.is_latest) == sa.true(), Release.server_name == name)
    ).first()


def _latest_of_the_rest(session: Session, name: str) -> Release | None:
    """``latest`` with ``include_deleted`` when no release is active: the highest published
    one (stable first), as ``versions`` lists it; so a server whose only version is deleted
    answers both the same way."""
    return session.exec(
        select(Release)
        .where(Release.server_name == name, Release.status != DRAFT)
        .order_by(col(Release.is_prerelease), col(Release.version_key).desc())
        .limit(1)
    ).first()


def channel_release(session: Session, server: Server, channel: str) -> Release | None:
    if channel == LATEST:
        return latest_release(session, server.name)
    return session.exec(
        select(Release)
        .join(Channel, col(Channel.release_id) == col(Release.id))
        .where(Channel.server_id == server.id, Channel.name == channel)
    ).first()


def published(reader: Reader, name: str, ref: str, *, include_deleted: bool = False) -> Published | None:
    """The visible release ``latest`` or an exact version names, in one indexed statement.

    None for anything else (a channel name, a miss): ``lookup`` answers those in full,
    with its errors. ``reader`` may be a session or a Core connection.
    """
    parsed = None if ref == LATEST else try_parse_version(ref)
    if ref == LATEST:
        row = reader.execute(_LATEST, {"name": name}).first()
    elif parsed is not None:
        row = reader.execute(_EXACT, {"name": name, "key": parsed.key}).first()
    else:
        return None
    if row is None or (parsed is not None and parsed.build is not None and row.version != ref):
        return None
    if row.status == DRAFT or (row.status == "deleted" and not include_deleted):
        return None
    return cast(Published, row)


def lookup(
    session: Session, name: str, ref: str, *, include_deleted: bool = False, include_drafts: bool = False
) -> Release:
    """A release by exact version, ``latest`` or a channel name.

    ``latest`` and exact versions take one indexed query by server name; the server row
    is read only to tell a missing server from a missing version.
    """
    release: Release | None
    parsed = None if ref == LATEST else try_parse_version(ref)
    if ref == LATEST:
        release = latest_release(session, name)
        if release is None and include_deleted:
            release = _latest_of_the_rest(session, name)
    elif parsed is None:
        server = get_server(session, name)
        # A version that is not SemVer is one an upstream served (``services.mirror``).
        release = session.exec(
            select(Release).where(Release.server_id == server.id, Release.version == ref)
        ).first() or channel_release(session, server, ref)
    else:
        release = session.exec(
            select(Release).where(Release.server_name == name, Release.version_key == parsed.key)
        ).first()
        if release is not None and parsed.build is not None and release.version != ref:
            release = None
    if release is None:
        get_server(session, name)  # server_not_found when there is no such server
        if parsed is None:
            raise NotFound(
                f"{name} has no version or channel {ref!r}", field="version", code="version_not_found"
            )
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
    # A mirrored non-SemVer version is in no range.
    by_version = {v: r for r in rows if (v := try_parse_version(r.version)) is not None}
    best = max_satisfying(by_version, range_text, prerelease=prerelease)
    if best is None:
        raise NotFound(
            f"no active release of {name} satisfies {range_text!r}"
            + (
                ""
                if prerelease
                else " (a pre-release counts only where the range names one of the same"
                " major.minor.patch, or with prerelease=true)"
            ),
            field="range",
            code="no_matching_version",
        )
    return by_version[best]
