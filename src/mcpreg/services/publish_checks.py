"""The official registry's publish-time refusals, checked before a new release is stored.

``check_publishable_document`` runs the pure rules of :mod:`mcpreg.domain.publish_rules`
(400 ``schema_required``, ``invalid_repository_url``, ``publisher_meta_too_large``);
``check_remote_urls`` refuses a remote URL that another server already serves (409
``remote_url_taken``; the official API answers it with 400 and the official text).

The remote URL check reads candidate documents by a substring match on the stored
JSON text (no index): its cost grows with the catalogue, and it runs only for a
document that has remotes.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel import Session, col, select

from mcpreg.db.tables import Release
from mcpreg.domain.publish_rules import publish_violations
from mcpreg.errors import BadRequest, Conflict

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


def remote_urls(doc: dict[str, Any]) -> list[str]:
    remotes = doc.get("remotes")
    if not isinstance(remotes, list):
        return []
    return [r["url"] for r in remotes if isinstance(r, dict) and isinstance(r.get("url"), str)]


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
    # Stored documents are orjson text, so the URL appears exactly as its JSON string does;
    # the substring match only narrows the candidates, each is then read properly.
    needle = orjson.dumps(url).decode()
    candidates = session.exec(
        select(Release.server_name, Release.document)
        .where(
            col(Release.server_name) != exclude,
            col(Release.status).not_in((DRAFT, "deleted")),
            col(Release.document).contains(needle, autoescape=True),
        )
        .order_by(col(Release.server_name))
    )
    for server_name, document in candidates:
        if url in remote_urls(orjson.loads(document)):
            return server_name
    return None
