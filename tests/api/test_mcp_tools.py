"""The registry's MCP tools, called through the real mcp client over streamable HTTP."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from mcp import Client

from tests.conftest import publish, server_doc
from tests.support.live import LiveServer


def call(url: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    async def run() -> tuple[bool, Any]:
        async with Client(f"{url}/mcp") as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"search_servers", "get_server", "list_versions"} <= tools
            result = await client.call_tool(tool, arguments)
            if result.is_error:
                return False, result.content[0].text  # type: ignore[union-attr]
            return True, result.structured_content

    return anyio.run(run)


def test_the_mcp_tools_return_what_the_rest_api_returns(live: LiveServer, api: httpx.Client) -> None:
    for version in ("1.0.0", "1.1.0", "2.0.0-rc.1"):
        publish(api, server_doc(version=version))
    publish(api, server_doc(name="io.github.acme/maps", description="Maps and routing"))
    api.put("/api/servers/io.github.acme/weather/channels/next", json={"version": "2.0.0-rc.1"})

    ok, found = call(live.url, "search_servers", {"query": "maps"})
    assert ok
    assert found == api.get("/v0.1/servers", params={"search": "maps", "version": "latest"}).json()

    ok, latest = call(live.url, "get_server", {"name": "io.github.acme/weather"})
    assert ok and latest == api.get("/v0.1/servers/io.github.acme%2Fweather/versions/latest").json()
    ok, via_channel = call(live.url, "get_server", {"name": "io.github.acme/weather", "version": "next"})
    assert ok and via_channel["server"]["version"] == "2.0.0-rc.1"

    ok, versions = call(live.url, "list_versions", {"name": "io.github.acme/weather"})
    assert ok and versions == api.get("/v0.1/servers/io.github.acme%2Fweather/versions").json()
    assert [s["server"]["version"] for s in versions["servers"]] == ["2.0.0-rc.1", "1.1.0", "1.0.0"]


def test_an_unknown_server_is_a_tool_error_with_its_code(live: LiveServer) -> None:
    ok, message = call(live.url, "get_server", {"name": "io.github.nobody/nothing"})
    assert not ok and "server_not_found" in message
    ok, message = call(live.url, "search_servers", {"limit": 0})
    assert not ok and "validation_failed" in message
