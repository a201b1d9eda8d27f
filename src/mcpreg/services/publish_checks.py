"""The official registry's publish-time refusals, checked before a new release is stored.

``check_publishable_document`` runs the pure rules of :mod:`mcpreg.domain.publish_rules`
(400 ``schema_required``, ``invalid_repository_url``, ``publisher_meta_too_large``);
``check_remote_urls`` refuses a remote URL that another server already serves (409
``remote_url_taken``; the official API answers it with 400 and the official text).

Every stored release's remote URLs are indexed in ``remote_url`` (by SHA-256), written
by ``record_remote_urls`` and the bulk import (``remote_rows``).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.tables import Release, RemoteUrl
from mcpreg.domain.publish_rules import publish_violations
from mcpreg.errors import BadRequest, Conflict
from mcpreg.services import ownership

DRAFT = "draft"

_CODES = {
    "schema-required": "schema_required",
    "repository-url": "invalid_repository_url",
    "publisher-provided-size": "publisher_meta_too_large",
}


def check_publishable_document(doc: dict[str, Any]) -> None:
    """400 for the first publish-time rule ``doc`` breaks (every one is in ``errors``)."""
    violations = publish_violations(doc)
    if violations:
        first = violations[0]
        raise BadRequest(
            first.message,
            field=first.field,
            code=_CODES[first.rule],
            extra={"errors": [v.as_dict() for v in violations]},
        )


def check_local_name(session: Session, name: str) -> None:
    """409 ``namespace_mirrored`` for a name an upstream owns, ``name_clash`` for a server it
    mirrored: neither is published locally (``services.ownership``)."""
    ownership.check_local_publish(session, name)


def remote_urls(doc: dict[str, Any]) -> list[str]:
    remotes = doc.get("remotes")
    if not isinstance(remotes, list):
        return []
    return [r["url"] for r in remotes if isinstance(r, dict) and isinstance(r.get("url"), str)]


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def remote_rows(name: str, version_key: str, doc: dict[str, Any]) -> list[dict[str, str]]:
    """The ``remote_url`` rows of one release (for a bulk insert)."""
    return [
        {"url_hash": url_hash(url), "url": url, "server_name": name, "version_key": version_key}
        for url in sorted(set(remote_urls(doc)))
    ]


def record_remote_urls(session: Session, name: str, version_key: str, doc: dict[str, Any]) -> None:
    """Index the remote URLs of a stored release (replacing what an edited draft had)."""
    session.execute(
        sa.delete(RemoteUrl).where(
            col(RemoteUrl.server_name) == name, col(RemoteUrl.version_key) == version_key
        )
    )
    rows = remote_rows(name, version_key, doc)
    if rows:
        session.execute(sa.insert(RemoteUrl), rows)


def check_remote_urls(session: Session, doc: dict[str, Any]) -> None:
    """409 ``remote_url_taken`` when a published, not deleted release of another server
    lists one of ``doc``'s remote URLs (a remote endpoint belongs to one server name)."""
    name = doc.get("name")
    for index, url in enumerate(remote_urls(doc)):
        owner = _server_using(session, url, exclude=str(name))
        if owner is not None:
            raise Conflict(
                f"remote URL {url} is already used by server {owner}",
                field=f"/remotes/{index}/url",
                code="remote_url_taken",
                extra={"server": owner},
            )


def _server_using(session: Session, url: str, *, exclude: str) -> str | None:
    return session.exec(
        select(RemoteUrl.server_name)
        .join(
            Release,
            sa.and_(
                col(Release.server_name) == col(RemoteUrl.server_name),
                col(Release.version_key) == col(RemoteUrl.version_key),
            ),
        )
        .where(
            col(RemoteUrl.url_hash) == url_hash(url),
            col(RemoteUrl.url) == url,
            col(RemoteUrl.server_name) != exclude,
            col(Release.status).not_in((DRAFT, "deleted")),
        )
        .order_by(col(RemoteUrl.server_name))
        .limit(1)
    ).first()
