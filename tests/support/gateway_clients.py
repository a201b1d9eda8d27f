"""Clients of the gateway for tests: raw stateless calls, and the real ``mcp`` client in
legacy mode driven from a synchronous test (through an anyio blocking portal)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import httpx2
from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from tests.conftest import publish
from tests.support.live import LiveServer
from tests.support.upstreams import Upstream, answer_of, modern_call, remote_doc, tool_text

NAME = "io.github.acme/echo"
ENV = "production"
TARGET = f"/api/environments/{ENV}/servers/{NAME}"
DEPLOY = f"/api/environments/{ENV}/deployments"


def gateway_url(live: LiveServer, env: str = ENV, name: str = NAME) -> str:
    return f"{live.url}/environments/{env}/servers/{name}/mcp"


def release(api: httpx.Client, running: dict[str, Upstream], *versions: str, **extra: Any) -> None:
    """Publish each version with its own upstream as its one remote."""
    for version in versions:
        publish(api, remote_doc(version, running[version].url, **extra))


def deploy(api: httpx.Client, version: str, env: str = ENV, **body: object) -> None:
    response = api.post(
        f"/api/environments/{env}/deployments", json={"server": NAME, "version": version, **body}
    )
    assert response.status_code == 201, response.text


def call(
    client: httpx.Client, url: str, tool: str = "whoami", key: str | None = None, **headers: str
) -> httpx.Response:
    """One stateless 2026-07-28 ``tools/call`` through the gateway."""
    message = modern_call(tool)
    sent = {**message["headers"], **headers}
    if key is not None:
        sent["x-client-id"] = key
    return client.post(url, json=message["json"], headers=sent)


def whoami(client: httpx.Client, url: str, key: str | None = None, **headers: str) -> dict[str, Any]:
    response = call(client, url, "whoami", key, **headers)
    assert response.status_code == 200, response.text
    return json.loads(tool_text(answer_of(response)))  # type: ignore[no-any-return]


def whoami_version(client: httpx.Client, url: str, key: str | None) -> str:
    return str(whoami(client, url, key)["version"])


def modern_whoami(url: str, authorization: str, key: str, mode: str = "2026-07-28") -> str:
    """``whoami`` through the real ``mcp`` client in stateless 2026-07-28 mode (pinned, or
    ``auto``: the SDK's default, which discovers it through the gateway)."""
    with start_blocking_portal() as portal:
        return str(portal.call(_modern_whoami, url, authorization, key, mode))


async def _modern_whoami(url: str, authorization: str, key: str, mode: str) -> str:
    headers = {"authorization": authorization, "x-client-id": key}
    http = httpx2.AsyncClient(headers=headers)
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        result = await client.call_tool("whoami", {})
    return str(json.loads(result.content[0].text)["version"])  # type: ignore[union-attr]


class LegacySession:
    """A real ``mcp`` client session (initialize, ``Mcp-Session-Id``) through the gateway."""

    def __init__(self, portal: BlockingPortal, client: Client, sessions: list[str]) -> None:
        self.portal = portal
        self.client = client
        self.sessions = sessions  # every Mcp-Session-Id the gateway handed out, in order

    def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        return self.portal.call(self.client.call_tool, tool, arguments or {})

    def version(self) -> str:
        result = self.call("whoami")
        return str(json.loads(result.content[0].text)["version"])

    def expired(self) -> bool:
        """Whether the session's next request is refused (the SDK reports the 404 as an error)."""
        try:
            self.call("whoami")
        except MCPError:
            return True
        return False


@contextmanager
def legacy_session(url: str, authorization: str | None, key: str | None) -> Iterator[LegacySession]:
    headers = {}
    if authorization:
        headers["authorization"] = authorization
    if key:
        headers["x-client-id"] = key
    sessions: list[str] = []

    async def keep(response: httpx2.Response) -> None:
        issued = response.headers.get("mcp-session-id")
        if issued and issued not in sessions:
            sessions.append(issued)

    with start_blocking_portal() as portal:
        http = httpx2.AsyncClient(headers=headers, event_hooks={"response": [keep]})
        client = Client(streamable_http_client(url, http_client=http), mode="legacy")
        with portal.wrap_async_context_manager(http), portal.wrap_async_context_manager(client):
            yield LegacySession(portal, client, sessions)
