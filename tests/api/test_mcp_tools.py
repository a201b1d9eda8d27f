"""The registry's MCP tools, called through the real mcp client.

The tools' answers are tested in process (``Client(server)``, as python-sdk tests its own
servers); that the app serves them at ``/mcp`` over streamable HTTP is tested once over a socket.
"""

from __future__ import annotations

import httpx
from mcp.server.mcpserver import MCPServer

from tests.conftest import publish, server_doc
from tests.support.live import LiveServer
from tests.support.tools import call_tool


def test_the_mcp_tools_return_what_the_rest_api_returns(mcp_server: MCPServer, app_api: httpx.Client) -> None:
    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        publish(app_api, server_doc(version=version))
    publish(app_api, server_doc(name="io.github.acme/maps", description="Maps and routing"))
    app_api.put("/api/servers/io.github.acme/weather/channels/next", json={"version": "2.0.0-rc.1"})

    ok, found = call_tool(mcp_server, "search_servers", {"query": "maps"})
    assert ok
    assert found == app_api.get("/v0.1/servers", params={"search": "maps", "version": "latest"}).json()

    ok, latest = call_tool(mcp_server, "get_server", {"name": "io.github.acme/weather"})
    assert ok and latest == app_api.get("/v0.1/servers/io.github.acme%2Fweather/versions/latest").json()
    ok, via_channel = call_tool(
        mcp_server, "get_server", {"name": "io.github.acme/weather", "version": "next"}
    )
    assert ok and via_channel["server"]["version"] == "2.0.0-rc.1"

    ok, versions = call_tool(mcp_server, "list_versions", {"name": "io.github.acme/weather"})
    assert ok and versions == app_api.get("/v0.1/servers/io.github.acme%2Fweather/versions").json()
    assert [s["server"]["version"] for s in versions["servers"]] == ["2.0.0-rc.1", "1.1.0", "1.0.0"]


def test_an_unknown_server_is_a_tool_error_with_its_code(mcp_server: MCPServer) -> None:
    ok, message = call_tool(mcp_server, "get_server", {"name": "io.github.nobody/nothing"})
    assert not ok and "server_not_found" in message
    ok, message = call_tool(mcp_server, "search_servers", {"limit": 0})
    assert not ok and "validation_failed" in message


def test_the_app_serves_the_tools_at_mcp_over_streamable_http(live: LiveServer, api: httpx.Client) -> None:
    publish(api, server_doc())
    ok, latest = call_tool(f"{live.url}/mcp", "get_server", {"name": "io.github.acme/weather"})
    assert ok and latest == api.get("/v0.1/servers/io.github.acme%2Fweather/versions/latest").json()
    ok, message = call_tool(f"{live.url}/mcp", "get_server", {"name": "io.github.nobody/nothing"})
    assert not ok and "server_not_found" in message
