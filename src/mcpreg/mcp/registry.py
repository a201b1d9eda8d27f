"""The registry as an MCP server: ``/mcp`` over streamable HTTP (stateless, JSON responses).

Its tools return exactly what the REST API returns for the same question.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

import mcpreg
from mcpreg.db.engine import is_unavailable, unit_of_work
from mcpreg.domain.storable import NUL, refuse_nul
from mcpreg.errors import DatabaseUnavailable, RegistryError, ValidationFailed
from mcpreg.services import discovery
from mcpreg.services.views import server_response

T = TypeVar("T")


def build_server(engine: sa.Engine) -> MCPServer:
    """An MCP server whose tools read the registry through the same services as REST."""
    server: MCPServer = MCPServer(
        name="mcpreg",
        version=mcpreg.__version__,
        instructions="Discover MCP servers in this registry: search, read a version, list versions.",
    )

    async def call(work: Callable[[Session], T], **arguments: object) -> T:
        """Run ``work``; a refusal is a tool error led by its code, as REST's problem ``code``."""

        def _run() -> T:
            for name, value in arguments.items():  # PostgreSQL cannot hold a NUL; refuse it by name
                if isinstance(value, str) and NUL in value:
                    raise refuse_nul(name)
            with unit_of_work(engine) as session:
                return work(session)

        try:
            return await run_in_threadpool(_run)
        except RegistryError as exc:
            raise ToolError(f"{exc.code}: {exc.detail}") from None
        except sa.exc.SQLAlchemyError as exc:
            if not is_unavailable(exc):
                raise
            error = DatabaseUnavailable("the registry's database cannot serve now; retry shortly")
            raise ToolError(f"{error.code}: {error.detail}") from None

    @server.tool()
    async def search_servers(
        query: str = "", limit: int = 30, cursor: str | None = None, version: str = "latest"
    ) -> dict[str, Any]:
        """Search servers by name or description; returns the /v0.1/servers response shape."""

        def work(session: Session) -> dict[str, Any]:
            if not 1 <= limit <= discovery.MAX_LIMIT:
                raise ValidationFailed(f"limit must be from 1 to {discovery.MAX_LIMIT}")
            q = discovery.ListQuery(cursor=cursor, limit=limit, search=query or None, version=version or None)
            servers, next_cursor = discovery.list_servers(session, q)
            metadata: dict[str, Any] = {"count": len(servers)}
            if next_cursor:
                metadata["nextCursor"] = next_cursor
            return {"servers": servers, "metadata": metadata}

        return await call(work, query=query, cursor=cursor, version=version)

    @server.tool()
    async def get_server(name: str, version: str = "latest") -> dict[str, Any]:
        """One version of a server by exact version, channel name, or `latest` (the default)."""
        return await call(
            lambda session: server_response(discovery.lookup(session, name, version)),
            name=name,
            version=version,
        )

    @server.tool()
    async def list_versions(name: str) -> dict[str, Any]:
        """Every published version of a server, newest first by SemVer precedence."""

        def work(session: Session) -> dict[str, Any]:
            rows = discovery.list_versions(session, name)
            return {"servers": [server_response(r) for r in rows], "metadata": {"count": len(rows)}}

        return await call(work, name=name)

    return server


def routes(server: MCPServer) -> list[BaseRoute]:
    """The ``/mcp`` endpoint of ``server``; its session manager runs in the app's lifespan."""
    mcp_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        # A public, read-only discovery surface served behind any host name.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return list(mcp_app.routes)
