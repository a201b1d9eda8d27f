"""Export the catalogue as a saved ``/v0.1/servers`` page that ``mcpreg import`` reads back.

Only release documents and their statuses leave: never variables, secrets, tokens or
the journal.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from mcpreg.db.tables import Release
from mcpreg.services.releases import DRAFT
from mcpreg.services.views import server_response

PAGE = 1000


def iter_releases(session: Session, *, include_deleted: bool = True) -> Iterator[Release]:
    """Every published release, by server name then newest first, read in keyset pages."""
    after: tuple[str, str] | None = None
    while True:
        query = select(Release).where(col(Release.status) != DRAFT)
        if not include_deleted:
            query = query.where(col(Release.status) != "deleted")
        if after is not None:
            query = query.where(
                (col(Release.server_name) > after[0])
                | ((col(Release.server_name) == after[0]) & (col(Release.version_key) < after[1]))
            )
        rows = list(
            session.exec(
                query.order_by(col(Release.server_name), col(Release.version_key).desc()).limit(PAGE)
            )
        )
        yield from rows
        if len(rows) < PAGE:
            return
        after = (rows[-1].server_name, rows[-1].version_key)


def export_catalogue(session: Session, *, include_deleted: bool = True) -> dict[str, Any]:
    servers = [server_response(r) for r in iter_releases(session, include_deleted=include_deleted)]
    return {"servers": servers, "metadata": {"count": len(servers)}}
