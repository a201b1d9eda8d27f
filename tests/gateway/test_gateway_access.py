"""Who may connect, what reaches the upstream (configured headers and secrets, never the
client's token or cookies, never in the logs), and which addresses the gateway refuses."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.errors import UpstreamForbidden
from mcpreg.gateway import guard
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS, make_token, publish
from tests.support.gateway_clients import NAME, call, deploy, gateway_url, release, whoami
from tests.support.live import LiveServer
from tests.support.upstreams import Upstream, remote_doc, upstreams

SECRET = "sk-live-7f3a9c1e5b"
PORT_TEMPLATE = "http://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Upstream]]:
    with upstreams("1.0.0") as started:
        yield started


@pytest.fixture
def echo(running: dict[str, Upstream]) -> Upstream:
    upstream = running["1.0.0"]
    upstream.reset()
    return upstream


def _configured_doc(upstream: Upstream) -> dict[str, Any]:
    """A remote whose port is a URL variable and which declares a secret and a plain header."""
    return remote_doc(
        "1.0.0",
        PORT_TEMPLATE,
        remotes=[
            {
                "type": "streamable-http",
                "url": PORT_TEMPLATE,
                "variables": {"port": {"description": "the upstream's port", "isRequired": True}},
                "headers": [
                    {"name": "X-Api-Key", "isSecret": True, "isRequired": True, "description": "the key"},
                    {
                        "name": "X-Tenant",
                        "value": "tenant-{region}",
                        "variables": {"region": {"default": "eu"}},
                    },
                ],
            }
        ],
    )


def test_configured_headers_and_secrets_reach_the_upstream_but_never_the_logs_nor_the_client_token(
    api: httpx.Client,
    live: LiveServer,
    echo: Upstream,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    publish(api, _configured_doc(echo))
    port = echo.base.rsplit(":", 1)[1]
    scope = {"environment": "production"}
    assert (
        api.put(f"/api/servers/{NAME}/variables/port", params=scope, json={"value": port}).status_code == 201
    )
    assert (
        api.put(f"/api/servers/{NAME}/secrets/X-Api-Key", params=scope, json={"value": SECRET}).status_code
        == 201
    )
    deploy(api, "1.0.0")
    sent = {"cookie": "session=browser-cookie", "mcp-param-region": "eu-west"}
    seen = whoami(api, gateway_url(live), "c-1", **sent)["headers"]
    assert seen["x-api-key"] == SECRET
    assert seen["x-tenant"] == "tenant-eu"
    assert "authorization" not in seen and "cookie" not in seen and "x-client-id" not in seen
    assert seen["mcp-method"] == "tools/call" and seen["mcp-name"] == "whoami"
    assert seen["mcp-param-region"] == "eu-west" and seen["mcp-protocol-version"] == "2026-07-28"
    assert all("authorization" not in headers for headers in echo.seen)
    logged = caplog.text + "".join(capfd.readouterr())
    assert SECRET not in logged
    assert SECRET not in api.get(f"/api/environments/production/servers/{NAME}/resolve").text


def test_a_missing_url_variable_is_a_409_naming_what_is_missing(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    publish(api, _configured_doc(echo))
    deploy(api, "1.0.0")
    refused = call(api, gateway_url(live), key="c-1")
    assert refused.status_code == 409
    assert refused.json()["code"] == "upstream_unconfigured"
    assert refused.json()["missing"] == ["X-Api-Key", "port"]


def test_the_gateway_needs_a_connect_token_over_the_server_and_environment(
    api: httpx.Client, live: LiveServer, echo: Upstream, engine: sa.Engine
) -> None:
    release(api, {"1.0.0": echo}, "1.0.0")
    deploy(api, "1.0.0")
    url = gateway_url(live)

    def as_token(token: str | None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(headers=headers, timeout=30) as client:
            return call(client, url, key="c-1")

    anonymous = as_token(None)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    reader = as_token(make_token(engine, "reader", ["read"]))
    assert reader.status_code == 403 and reader.json()["code"] == "permission_denied"
    elsewhere = as_token(make_token(engine, "staging-only", ["connect"], environments=["staging"]))
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "environment_denied"
    other_ns = as_token(make_token(engine, "other-ns", ["connect"], namespaces=["io.github.other/*"]))
    assert other_ns.status_code == 403 and other_ns.json()["code"] == "namespace_denied"
    assert (
        as_token(make_token(engine, "connector", ["connect"], namespaces=["io.github.acme/*"])).status_code
        == 200
    )
    # anonymous learns nothing about servers that are not there
    missing = httpx.post(gateway_url(live, name="io.github.acme/nothing"), json={})
    assert missing.status_code == 401
    # a public gateway takes anyone
    public = api.patch("/api/environments/production", json={"gatewayPublic": True})
    assert public.status_code == 200 and public.json()["gatewayPublic"] is True
    assert as_token(None).status_code == 200


@pytest.fixture
def public_only(database_url: str, tmp_path: Path, engine: sa.Engine) -> Iterator[LiveServer]:
    """A replica of a public registry: ``MCPREG_ALLOW_PRIVATE_REMOTES=0``."""
    settings = Settings.from_env(
        {
            "MCPREG_DATABASE_URL": database_url,
            "MCPREG_DATA_DIR": str(tmp_path / "public"),
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_DEV": "1",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
            "MCPREG_ALLOW_PRIVATE_REMOTES": "0",
        }
    )
    with LiveServer(create_app(settings, engine, prepare=False)) as server:
        yield server


def test_a_public_registry_refuses_loopback_remotes_at_publish_and_in_the_gateway(
    api: httpx.Client, public_only: LiveServer, echo: Upstream, admin_token: str
) -> None:
    release(api, {"1.0.0": echo}, "1.0.0")  # published while private remotes were allowed
    deploy(api, "1.0.0")
    with httpx.Client(base_url=public_only.url, headers={"authorization": f"Bearer {admin_token}"}) as there:
        refused = there.post("/v0.1/publish", json=remote_doc("1.1.0", echo.url))
        assert refused.status_code == 422
        assert [e["rule"] for e in refused.json()["errors"]] == ["remote-url"]
        forbidden = call(there, gateway_url(public_only), key="c-1")
    assert forbidden.status_code == 502 and forbidden.json()["error"]["data"]["code"] == "upstream_forbidden"
    assert echo.seen == []  # never connected


def test_a_public_name_that_resolves_to_loopback_is_refused_after_resolution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolves_to_loopback(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    async def resolves_to_public(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]

    monkeypatch.setattr(guard.anyio, "getaddrinfo", resolves_to_loopback)
    with pytest.raises(UpstreamForbidden) as refused:
        asyncio.run(guard.destination("https://mcp.example.com/mcp", private_remotes=False))
    assert refused.value.code == "upstream_forbidden"
    monkeypatch.setattr(guard.anyio, "getaddrinfo", resolves_to_public)
    pinned = asyncio.run(guard.destination("https://mcp.example.com:8443/mcp", private_remotes=False))
    assert str(pinned.url) == "https://93.184.216.34:8443/mcp"  # sent to the address that was checked
    assert pinned.headers == {"host": "mcp.example.com:8443"}
    assert pinned.extensions == {"sni_hostname": "mcp.example.com"}
    with pytest.raises(UpstreamForbidden):
        asyncio.run(guard.destination("http://mcp.example.com/mcp", private_remotes=False))


def test_a_secret_never_fills_a_url_variable(api: httpx.Client, live: LiveServer, echo: Upstream) -> None:
    publish(api, _configured_doc(echo))
    scope = {"environment": "production"}
    port = echo.base.rsplit(":", 1)[1]
    assert (
        api.put(f"/api/servers/{NAME}/secrets/X-Api-Key", params=scope, json={"value": SECRET}).status_code
        == 201
    )
    assert api.put(f"/api/servers/{NAME}/secrets/port", params=scope, json={"value": port}).status_code == 201
    deploy(api, "1.0.0")
    refused = call(api, gateway_url(live), key="c-1")
    assert refused.status_code == 409 and refused.json()["missing"] == ["port"]
    assert echo.seen == []
