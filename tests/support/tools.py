"""The registry's MCP tools through the real ``mcp`` client, in process (``Client(server)``).

As python-sdk tests its own servers: the client talks to the ``MCPServer`` object directly,
with no HTTP in between. That ``/mcp`` is mounted and answers over streamable HTTP is tested
once, over a socket, in tests/api/test_mcp_tools.py.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import TextContent

TOOLS = frozenset({"search_servers", "get_server", "list_versions"})


async def _call(target: MCPServer | str, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    async with Client(target) as client:
        assert {t.name for t in (await client.list_tools()).tools} >= TOOLS
        result = await client.call_tool(tool, arguments)
        if result.is_error:
            first = result.content[0]
            assert isinstance(first, TextContent), first
            return False, first.text
        return True, result.structured_content


def call_tool(target: MCPServer | str, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """``(True, structured result)`` or ``(False, error text)``; ``target`` a server or an /mcp URL."""
    return anyio.run(_call, target, tool, arguments)
