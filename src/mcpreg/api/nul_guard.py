"""Refuse a NUL character in the path or the query before anything reads it.

PostgreSQL cannot store or compare text holding U+0000 and SQLite would store it, so a
request carrying one is refused here, outermost, before the response cache's front door
or any handler passes the value to a query. The refusal names the path parameter (by
matching the app's routes) or the query parameter. Bodies are checked where they are
parsed (``api.http.json_body``). The cost on every other request is two substring tests.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from mcpreg.api.problems import problem_response
from mcpreg.domain.storable import NUL, refuse_nul


def _path_field(routes: list[BaseRoute], scope: Scope) -> str:
    """The path parameter holding the NUL, from the first route the path matches."""
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        for name, value in child.get("path_params", {}).items():
            if NUL in str(value):
                return str(name)
        break
    return "path"


def _query_field(query_string: bytes) -> str | None:
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return name
    return None


class NulGuard:
    """ASGI middleware: a 422 ``nul_character`` naming the parameter that holds a NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field: str | None = None
            if NUL in scope["path"]:
                field = _path_field(scope["app"].router.routes, scope)
            elif b"%00" in scope["query_string"] or b"\x00" in scope["query_string"]:
                field = _query_field(scope["query_string"])
            if field is not None:
                response = problem_response(refuse_nul(field), Request(scope).url.path)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
