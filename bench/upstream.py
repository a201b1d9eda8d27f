"""``python -m bench.upstream PORT``: the gateway scenario's upstream MCP server.

The SDK's ``MCPServer`` with one tool, ``echo(text)``, on its streamable-HTTP app with JSON
answers (no SSE), under uvicorn with the same loop and parser choice as ``mcpreg serve``
(uvicorn's ``auto``), one worker, access log off. It runs in its own process, so the
gateway and its upstream do not share an interpreter.
"""

from __future__ import annotations

import sys

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp

NAME = "io.github.bench/echo"


def build() -> ASGIApp:
    server = MCPServer(name=NAME, version="1.0.0")

    @server.tool()
    def echo(text: str) -> str:
        """Returns ``text``."""
        return text

    return server.streamable_http_app(json_response=True)


def main(argv: list[str]) -> None:
    port = int(argv[0])
    uvicorn.run(build(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
