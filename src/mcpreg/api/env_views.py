"""The official Registry API's read side, as one environment sees it.

``/environments/{env}/v0.1/...`` (and ``/v0/...``) list only what is deployed in
``env``. ``latest`` there is the version routed to the caller's ``X-Client-Id``
(stable without one), so a stock MCP client pointed at that base URL sees, for
example, production and not the whole catalogue. Anonymous reads are served from
the response cache, keyed by client id too; every replica drops it within one
generation poll of any change, scheduler steps included.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api import official
from mcpreg.api.http import json_response, query_int, run, server_name
from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.tables import Release
from mcpreg.domain.principal import Principal
from mcpreg.domain.versions import LATEST
from mcpreg.errors import NoDeployment, NotFound
from mcpreg.services import discovery, environments, releases
from mcpreg.services.deploy.routing import Resolution, route_state
from mcpreg.services.deploy.states import find_state, is_rolling_out
from mcpreg.services.views import OFFICIAL, server_response

DEPLOYMENT = "dev.mcpreg/deployment"


def client_of(request: Request) -> str | None:
    return request.headers.get("x-client-id") or None


async def cached_read(request: Request, render: Any) -> Response:
    """The official API's cache; its key holds the client id too (it picks ``latest``).

    These answers depend on deployments as well as the catalogue: any change retires them.
    """
    return await official.cached_read(request, render, catalogue_only=False)


def _entry(release: Release, routed: Resolution, state: DeploymentState) -> dict[str, Any]:
    body = server_response(release)
    body["_meta"][OFFICIAL]["isLatest"] = release.id == routed.release.id
    canary = is_rolling_out(state) and release.id == state.canary_release_id
    body["_meta"][DEPLOYMENT] = {
        "environment": routed.environment,
        "track": "canary" if canary else "stable",
        "rolloutId": routed.rollout_id,
        "weight": routed.view()["weight"],
    }
    return body


def _deployed(session: Session, env: Environment, state: DeploymentState) -> list[Release]:
    """The releases running on a target: stable, then a canary that takes traffic."""
    ids = [state.stable_release_id]
    if is_rolling_out(state) and state.canary_release_id is not None and state.canary_weight > 0:
        ids.append(state.canary_release_id)
    return [r for r in (session.get(Release, i) for i in ids if i is not None) if r is not None]


def _target(session: Session, env_name: str, name: str) -> tuple[Environment, DeploymentState]:
    env = environments.get_environment(session, env_name)
    state = find_state(session, releases.get_server(session, name), env)
    if state is None or state.stable_release_id is None:
        raise NoDeployment(f"server {name!r} is not deployed in {env.name}", field="serverName")
    return env, state


async def list_servers(request: Request) -> Response:
    env_name = request.path_params["env"]
    limit = query_int(request, "limit", discovery.DEFAULT_LIMIT, 1, discovery.MAX_LIMIT)
    cursor, search = request.query_params.get("cursor") or None, request.query_params.get("search") or None
    client = client_of(request)

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        env = environments.get_environment(session, env_name)
        query = (
            select(DeploymentState)
            .join(Release, DeploymentState.stable_release_id == Release.id)  # type: ignore[arg-type]
            .where(DeploymentState.environment_id == env.id)
        )
        if cursor:
            after, _ = discovery.decode_cursor(cursor)
            query = query.where(DeploymentState.server_name > after)
        if search:
            needle = search.lower()
            query = query.where(
                sa.or_(
                    sa.func.lower(DeploymentState.server_name).contains(needle, autoescape=True),
                    sa.func.lower(Release.description).contains(needle, autoescape=True),
                )
            )
        rows = list(session.exec(query.order_by(DeploymentState.server_name).limit(limit + 1)))
        more, rows = len(rows) > limit, rows[:limit]
        servers = []
        for state in rows:
            routed = route_state(session, state, env, client)
            servers.append(_entry(routed.release, routed, state))
        metadata: dict[str, Any] = {"count": len(servers)}
        if more and rows:
            metadata["nextCursor"] = discovery.encode_cursor(rows[-1].server_name, "")
        return {"servers": servers, "metadata": metadata}

    return await cached_read(request, render)


async def list_versions(request: Request) -> Response:
    env_name, name, client = request.path_params["env"], server_name(request), client_of(request)

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        env, state = _target(session, env_name, name)
        routed = route_state(session, state, env, client)
        deployed = sorted(_deployed(session, env, state), key=lambda r: r.version_key, reverse=True)
        return {"servers": [_entry(r, routed, state) for r in deployed], "metadata": {"count": len(deployed)}}

    return await cached_read(request, render)


async def get_version(request: Request) -> Response:
    env_name, name, ref = request.path_params["env"], server_name(request), request.path_params["version"]
    client = client_of(request)

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        env, state = _target(session, env_name, name)
        routed = route_state(session, state, env, client)
        if ref == LATEST:
            return _entry(routed.release, routed, state)
        wanted = releases.get_release(session, releases.get_server(session, name), ref)
        if all(r.id != wanted.id for r in _deployed(session, env, state)):
            raise NotFound(
                f"{name}@{ref} is not deployed in {env.name}", field="version", code="version_not_found"
            )
        return _entry(wanted, routed, state)

    return await cached_read(request, render)


async def health(request: Request) -> Response:
    env_name = request.path_params["env"]

    def work(session: Session, _p: Principal) -> dict[str, Any]:
        return {"status": "ok", "environment": environments.get_environment(session, env_name).name}

    return json_response(request, await run(request, work))
