"""The official MCP Registry API, served identically at ``/v0.1`` and ``/v0``."""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import mcpreg
from mcpreg.api.http import (
    bytes_response,
    json_object,
    json_response,
    query_bool,
    query_datetime,
    query_int,
    run,
    server_name,
)
from mcpreg.domain.principal import Principal
from mcpreg.domain.serverjson import validation_errors
from mcpreg.domain.versions import parse_version
from mcpreg.errors import ValidationFailed
from mcpreg.services import discovery, releases
from mcpreg.services.views import server_response

SERVER = "/servers/{namespace}/{server}"


async def cached_read(request: Request, render: Any, *, vary: str = "") -> Response:
    """Serve an anonymous read from the response cache; authenticated reads bypass it.

    ``vary`` adds whatever else the answer depends on (e.g. the routed client id).
    """
    if request.headers.get("authorization"):
        return bytes_response(request, orjson.dumps(await run(request, render)), cacheable=True)
    key = f"{request.url.path}?{request.query_params}#{vary}"

    async def _render() -> bytes:
        return orjson.dumps(await run(request, render))

    body, etag = await request.app.state.cache.cached(key, _render)
    return bytes_response(request, body, cacheable=True, etag=etag)


async def list_servers(request: Request) -> Response:
    query = discovery.ListQuery(
        cursor=request.query_params.get("cursor") or None,
        limit=query_int(request, "limit", discovery.DEFAULT_LIMIT, 1, discovery.MAX_LIMIT),
        search=request.query_params.get("search") or None,
        updated_since=query_datetime(request, "updated_since"),
        version=request.query_params.get("version") or None,
        include_deleted=query_bool(request, "include_deleted"),
    )

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        servers, cursor = discovery.list_servers(session, query)
        metadata: dict[str, Any] = {"count": len(servers)}
        if cursor:
            metadata["nextCursor"] = cursor
        return {"servers": servers, "metadata": metadata}

    return await cached_read(request, render)


async def list_versions(request: Request) -> Response:
    name = server_name(request)
    include_deleted = query_bool(request, "include_deleted")

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        rows = discovery.list_versions(session, name, include_deleted=include_deleted)
        return {"servers": [server_response(r) for r in rows], "metadata": {"count": len(rows)}}

    return await cached_read(request, render)


async def get_version(request: Request) -> Response:
    name, ref = server_name(request), request.path_params["version"]
    include_deleted = query_bool(request, "include_deleted")

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        return server_response(discovery.lookup(session, name, ref, include_deleted=include_deleted))

    return await cached_read(request, render)


async def edit_version(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = releases.update_draft(session, principal, name, version, body)
        return {"server": orjson.loads(release.document), "_meta": {}}

    return json_response(request, await run(request, work, write=True))


async def delete_version(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return server_response(releases.set_status(session, principal, name, version, "deleted"))

    return json_response(request, await run(request, work, write=True))


async def patch_status(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = releases.set_status(
            session, principal, name, version, body.get("status"), body.get("statusMessage")
        )
        return server_response(release)

    return json_response(request, await run(request, work, write=True))


async def patch_status_all(request: Request) -> Response:
    name = server_name(request)
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        rows = releases.set_status_all(
            session, principal, name, body.get("status"), body.get("statusMessage")
        )
        return {"updatedCount": len(rows), "servers": [server_response(r) for r in rows]}

    return json_response(request, await run(request, work, write=True))


async def publish(request: Request) -> Response:
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return server_response(releases.create_release(session, principal, body))

    return json_response(request, await run(request, work, write=True))


async def validate(request: Request) -> Response:
    """Check a server.json without storing it: schema, name rules and SemVer."""
    body = await json_object(request)
    errors = validation_errors(body)
    version = body.get("version")
    if isinstance(version, str):
        try:
            parse_version(version, field="/version")
        except ValidationFailed as exc:
            errors.append({"field": "/version", "rule": "semver", "message": exc.detail})
    return json_response(request, {"valid": not errors, "errors": errors})


async def health(request: Request) -> Response:
    return json_response(request, {"status": "ok"})


async def ping(request: Request) -> Response:
    return json_response(request, {"pong": True})


async def version(request: Request) -> Response:
    return json_response(
        request, {"version": mcpreg.__version__, "git_commit": "unknown", "build_time": "unknown"}
    )


def routes(prefix: str) -> list[BaseRoute]:
    return [
        Route(f"{prefix}/servers", list_servers, methods=["GET"]),
        Route(f"{prefix}{SERVER}/versions", list_versions, methods=["GET"]),
        Route(f"{prefix}{SERVER}/versions/{{version}}", get_version, methods=["GET"]),
        Route(f"{prefix}{SERVER}/versions/{{version}}", edit_version, methods=["PUT"]),
        Route(f"{prefix}{SERVER}/versions/{{version}}", delete_version, methods=["DELETE"]),
        Route(f"{prefix}{SERVER}/versions/{{version}}/status", patch_status, methods=["PATCH"]),
        Route(f"{prefix}{SERVER}/status", patch_status_all, methods=["PATCH"]),
        Route(f"{prefix}/publish", publish, methods=["POST"]),
        Route(f"{prefix}/validate", validate, methods=["POST"]),
        Route(f"{prefix}/health", health, methods=["GET"]),
        Route(f"{prefix}/ping", ping, methods=["GET"]),
        Route(f"{prefix}/version", version, methods=["GET"]),
    ]
