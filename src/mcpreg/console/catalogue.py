"""The catalogue screen: search, a status filter, paging by server name, and per server its
latest version, channels and where it runs.

Anyone may read it (the public catalogue: drafts are never listed). The listing query is
the console's own (one row per server rather than per release, as the official API pages);
everything on a row comes from the services the API uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, page, visit
from mcpreg.db.tables import Release
from mcpreg.domain.storable import refuse_nul
from mcpreg.errors import ValidationFailed
from mcpreg.services import channels, environments, releases
from mcpreg.services.deploy_state import states_of

PAGE_SIZE = 20
STATUSES = ("active", "deprecated", "deleted")
MAX_SEARCH = 200


@dataclass(frozen=True)
class Placement:
    environment: str
    stable: str | None
    canary: str | None
    weight: float


@dataclass(frozen=True)
class Entry:
    """One server on the catalogue: its newest release of the chosen status, and what points at it."""

    name: str
    description: str
    version: str
    latest: str | None
    channels: list[tuple[str, str]] = field(default_factory=list)
    running: list[Placement] = field(default_factory=list)


@dataclass(frozen=True)
class Query:
    search: str = ""
    status: str = "active"
    cursor: str = ""


def _names(session: Session, q: Query) -> tuple[list[str], str | None]:
    """One page of server names having a release of the status (and matching the search)."""
    query = select(Release.server_name).where(Release.status == q.status).distinct()
    if q.search:
        needle = q.search.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(Release.server_name).contains(needle, autoescape=True),
                sa.func.lower(Release.description).contains(needle, autoescape=True),
            )
        )
    if q.cursor:
        query = query.where(col(Release.server_name) > q.cursor)
    names = list(session.exec(query.order_by(col(Release.server_name)).limit(PAGE_SIZE + 1)))
    more = len(names) > PAGE_SIZE
    names = names[:PAGE_SIZE]
    return names, (names[-1] if more and names else None)


def entries(session: Session, q: Query) -> tuple[list[Entry], str | None]:
    names, next_cursor = _names(session, q)
    envs = {env.id: env.name for env in environments.list_environments(session)}
    order = list(envs)
    found: list[Entry] = []
    for name in names:
        server = releases.get_server(session, name)
        newest = session.exec(
            select(Release)
            .where(Release.server_id == server.id, Release.status == q.status)
            .order_by(col(Release.version_key).desc())
            .limit(1)
        ).one()
        states = states_of(session, server)
        running = [
            Placement(envs[env_id], state.stable_version, state.canary_version, state.canary_weight)
            for env_id in order
            if (state := states.get(env_id or 0)) is not None and state.stable_version is not None
        ]
        found.append(
            Entry(
                name=name,
                description=newest.description,
                version=newest.version,
                latest=releases.latest_version(session, server),
                channels=[(c["channel"], c["version"]) for c in channels.list_channels(session, name)],
                running=running,
            )
        )
    return found, next_cursor


def _query(request: Request) -> Query:
    params = request.query_params
    search = params.get("q", "").strip()
    status = params.get("status", "active") or "active"
    cursor = params.get("cursor", "")
    if len(search) > MAX_SEARCH:
        raise ValidationFailed(f"the search is at most {MAX_SEARCH} characters", field="q")
    if status not in STATUSES:
        raise ValidationFailed(
            f"status is one of {', '.join(STATUSES)}", field="status", code="invalid_status"
        )
    for name, value in (("q", search), ("cursor", cursor)):
        if "\x00" in value:
            raise refuse_nul(name)
    return Query(search=search, status=status, cursor=cursor)


@page
async def catalogue(request: Request) -> Response:
    q = _query(request)

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        found, next_cursor = entries(session, q)
        return {"visitor": visitor, "entries": found, "next_cursor": next_cursor}

    context = await visit(request, work)
    return render(
        request,
        "catalogue.html",
        {**context, "title": "Catalogue", "query": q, "statuses": STATUSES},
    )
