"""``GET /``: the front door, pointing people and programs at the API, MCP and the docs.

API clients (``Accept: application/json``, or anything without ``text/html``, as curl
sends) get JSON; browsers get a tiny HTML page with the same links. Nothing here reads
the database. ``GET /readme`` serves the README as installed with the package (its
metadata carries it), so the docs link works on any install, offline.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import metadata

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

import mcpreg
from mcpreg.api.http import json_response

DOCS = "/readme"
"""The README, served from the installed package's metadata."""

# What each link is, in the order the HTML page lists them.
LINKS: dict[str, tuple[str, str]] = {
    "console": ("/console/", "the web console: catalogue, version history, compare, history, configuration"),
    "servers": ("/v0.1/servers", "the official MCP Registry API (also under /v0)"),
    "environments": ("/api/environments", "environments in promotion order (the /api management API)"),
    "openapi": ("/api/openapi.json", "the OpenAPI 3.1 document of the /api management API"),
    "mcp": ("/mcp", "the registry as MCP tools (streamable HTTP)"),
    "changes": ("/api/changes", "the change feed (long-poll)"),
    "health": ("/v0.1/health", "liveness"),
    "docs": (DOCS, "the README: set-up, the APIs, the CLI, the Python client"),
}


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _page() -> str:
    items = "\n".join(
        f'<li><a href="{escape(href)}">{escape(href)}</a>: {escape(what)}</li>'
        for href, what in LINKS.values()
    )
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>mcpreg {escape(mcpreg.__version__)}</title>'
        "</head><body>\n"
        f"<h1>mcpreg {escape(mcpreg.__version__)}</h1>\n"
        "<p>An MCP server registry. Programs: send <code>Accept: application/json</code> here for "
        "these links as JSON.</p>\n"
        f"<ul>\n{items}\n</ul>\n</body></html>\n"
    )


async def home(request: Request) -> Response:
    if _wants_html(request):
        return HTMLResponse(_page())
    links = {key: href for key, (href, _what) in LINKS.items()}
    return json_response(request, {"name": "mcpreg", "version": mcpreg.__version__, "links": links})


@cache
def _readme() -> str | None:
    try:
        found = metadata.metadata("mcpreg")
    except metadata.PackageNotFoundError:
        return None
    body = found.json.get("description")  # the long description (the README), header or body
    return str(body) if body else None


async def readme(request: Request) -> Response:
    text = _readme()
    if text is None:
        return PlainTextResponse("this install of mcpreg carries no README\n", status_code=404)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
