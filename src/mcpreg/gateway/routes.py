"""The gateway's routes: one path, the three methods of MCP streamable HTTP."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from mcpreg.gateway.proxy import gateway

PATH = "/environments/{env}/servers/{namespace}/{server}/mcp"
"""Server names contain one slash: ``{namespace}/{server}`` (``api.http.server_name``)."""


def routes() -> list[BaseRoute]:
    """POST (messages), GET (the legacy server stream) and DELETE (end a legacy session)."""
    return [Route(PATH, gateway, methods=["POST", "GET", "DELETE"])]
