"""The catalogue screen: search, a status filter, paging by server name, and per server its
latest version, channels and where it runs.

Anyone may read it (the public catalogue: drafts are never listed). The listing is
``services.catalogue.listing`` (one row per server rather than per release, as the official
API pages); this module reads the query string and renders the page.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.console.templating import render
from mcpreg.console.visits import Visitor, page, visit
from mcpreg.domain.storable import refuse_nul
from mcpreg.errors import ValidationFailed
from mcpreg.services.catalogue import PAGE_SIZE, STATUSES, Query, listing

MAX_SEARCH = 200


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
        found, next_cursor = listing(session, q, PAGE_SIZE)
        return {"visitor": visitor, "entries": found, "next_cursor": next_cursor}

    context = await visit(request, work)
    return render(
        request,
        "catalogue.html",
        {**context, "title": "Catalogue", "query": q, "statuses": STATUSES},
    )
