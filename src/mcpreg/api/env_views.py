"""The official Registry API's read side, as one environment sees it.

``/environments/{env}/v0.1/...`` (and ``/v0/...``) list only what is deployed in
``env``. ``latest`` there is the version routed to the caller's ``X-Client-Id``
(stable without one), so a stock MCP client pointed at that base URL sees, for
example, production and not the whole catalogue. Anonymous reads are served from
the response cache, keyed by client id too; every replica drops it within one
generation poll of any change, scheduler steps included. What an environment shows is
``services.env_views``; a handler here parses, asks it, and renders the official shape.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api import official
from mcpreg.api.http import json_response, query_int, run, server_name
from mcpreg.domain.principal import Principal
from mcpreg.services import discovery, env_views, environments
from mcpreg.services.deploy.states import number
from mcpreg.services.views import OFFICIAL, server_response

DEPLOYMENT = "dev.mcpreg/deployment"


def client_of(request: Request) -> str | None:
    return request.headers.get("x-client-id") or None


async def cached_read(request: Request, render: Any) -> Response:
    """The official API's cache; its key holds the client id too (it picks ``latest``).

    These answers depend on deployments as well as the catalogue: any change retires them.
    """
    return await official.cached_read(request, render, catalogue_only=False)


def _entry(shown: env_views.Shown) -> dict[str, Any]:
    """The official ``ServerResponse`` of a deployed release (a mirrored one names its source,
    as the root listing does), with how it runs in the environment."""
    body = server_response(shown.release, shown.source)
    body["_meta"][OFFICIAL]["isLatest"] = shown.latest
    body["_meta"][DEPLOYMENT] = {
        "environment": shown.environment,
        "track": shown.track,
        "rolloutId": shown.rollout_id,
        "weight": number(shown.weight),
    }
    return body


async def list_servers(request: Request) -> Response:
    env_name = request.path_params["env"]
    limit = query_int(request, "limit", discovery.DEFAULT_LIMIT, 1, discovery.MAX_LIMIT)
    cursor, search = request.query_params.get("cursor") or None, request.query_params.get("search") or None
    client = client_of(request)

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        page = env_views.servers(session, env_name, client, limit=limit, cursor=cursor, search=search)
        metadata: dict[str, Any] = {"count": len(page.servers)}
        if page.next_cursor is not None:
            metadata["nextCursor"] = page.next_cursor
        return {"servers": [_entry(s) for s in page.servers], "metadata": metadata}

    return await cached_read(request, render)


async def list_versions(request: Request) -> Response:
    env_name, name, client = request.path_params["env"], server_name(request), client_of(request)

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        deployed = env_views.versions(session, env_name, name, client)
        return {"servers": [_entry(s) for s in deployed], "metadata": {"count": len(deployed)}}

    return await cached_read(request, render)


async def get_version(request: Request) -> Response:
    env_name, name, ref = request.path_params["env"], server_name(request), request.path_params["version"]
    client = client_of(request)

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        return _entry(env_views.version(session, env_name, name, ref, client))

    return await cached_read(request, render)


async def health(request: Request) -> Response:
    env_name = request.path_params["env"]

    def work(session: Session, _p: Principal) -> dict[str, Any]:
        return {"status": "ok", "environment": environments.get_environment(session, env_name).name}

    return json_response(request, await run(request, work))
