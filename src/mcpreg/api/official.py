"""The official MCP Registry API, served identically at ``/v0.1`` and ``/v0``."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

import mcpreg
from mcpreg.api.fastpath.cache import Entry, request_key
from mcpreg.api.fastpath.coalescer import Coalescer
from mcpreg.api.http import (
    bytes_response,
    json_object,
    json_response,
    query_bool,
    query_int,
    query_param,
    read,
    run,
    server_name,
)
from mcpreg.api.parity import updated_since, validation_result
from mcpreg.api.runtime import runtime
from mcpreg.db.tables import Release
from mcpreg.domain.principal import Principal
from mcpreg.domain.publish_rules import publish_violations
from mcpreg.domain.serverjson import validation_errors
from mcpreg.domain.versions import LATEST, parse_version
from mcpreg.errors import ValidationFailed
from mcpreg.services import discovery, releases, running
from mcpreg.services.mirror import provenance
from mcpreg.services.views import Published, embedded_response, server_response

SERVER = "/servers/{namespace}/{server}"


Render = Callable[[Session, Principal], Any]
Lean = Callable[[], Awaitable[bytes | None]]


async def cached_read(
    request: Request, render: Render, *, lean: Lean | None = None, catalogue_only: bool = True
) -> Response:
    """Serve an anonymous read from the response cache; authenticated reads bypass it.

    The key (``cache.request_key``) holds everything an anonymous answer depends on, the
    ``X-Client-Id`` that picks ``latest`` in an environment view included. Once stored,
    ``CachedResponses`` answers the same key before routing. A miss takes the JSON body
    ``lean`` renders (one Core statement, no session) when given, falling back to
    ``render`` when it answers None; ``catalogue_only`` says the answer depends on
    nothing but the catalogue.
    """
    key = request_key(request.scope)
    if key is None:
        return bytes_response(request, orjson.dumps(await run(request, render)), cacheable=True)

    async def _render() -> bytes:
        body = await lean() if lean is not None else None
        return body if body is not None else orjson.dumps(await run(request, render))

    cache = runtime(request.app).cache
    entry = await cache.cached(key, _render, catalogue_only=catalogue_only)
    status, headers, body = cache.answer(entry, request.scope)
    response = Response(body, status_code=status)
    response.raw_headers = headers  # the front door's headers, from the same function
    return response


async def list_servers(request: Request) -> Response:
    query = discovery.ListQuery(
        cursor=request.query_params.get("cursor") or None,
        limit=query_int(request, "limit", discovery.DEFAULT_LIMIT, 1, discovery.MAX_LIMIT),
        search=request.query_params.get("search") or None,
        updated_since=updated_since(query_param(request, "updated_since")),
        version=request.query_params.get("version") or None,
        include_deleted=query_bool(request, "include_deleted"),
    )

    def page(reader: Session | sa.Connection) -> dict[str, Any]:
        servers, cursor = discovery.list_servers(reader, query, embed=True)
        metadata: dict[str, Any] = {"count": len(servers)}
        if cursor:
            metadata["nextCursor"] = cursor
        return {"servers": servers, "metadata": metadata}

    async def lean() -> bytes:
        return await read(request, lambda connection: orjson.dumps(page(connection)))

    return await cached_read(request, lambda session, _p: page(session), lean=lean)


async def list_versions(request: Request) -> Response:
    name = server_name(request)
    include_deleted = query_bool(request, "include_deleted")

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        rows = discovery.list_versions(session, name, include_deleted=include_deleted)
        sources = provenance.sources_of(session, [r.id for r in rows])
        servers = [embedded_response(r, sources.get(r.id or 0)) for r in rows]
        return {"servers": servers, "metadata": {"count": len(rows)}}

    return await cached_read(request, render)


async def get_version(request: Request) -> Response:
    name, ref = server_name(request), request.path_params["version"]
    include_deleted = query_bool(request, "include_deleted")

    def one(connection: sa.Connection) -> Published | None:
        return discovery.published(connection, name, ref, include_deleted=include_deleted)

    async def lean() -> bytes | None:
        if ref == LATEST:  # the most asked-for answer: concurrent misses share one statement
            return await latest_releases(request).get(name)
        row = await read(request, one)
        return None if row is None else orjson.dumps(embedded_response(row))

    def render(session: Session, _p: Principal) -> dict[str, Any]:
        release = discovery.lookup(session, name, ref, include_deleted=include_deleted)
        return embedded_response(release, provenance.source_of(session, release.id))

    return await cached_read(request, render, lean=lean)


# The official detail of ``latest``, as Starlette matches it under both prefixes.
_LATEST_PATH = re.compile(r"/v0(?:\.1)?/servers/([^/]+)/([^/]+)/versions/latest")


async def latest_at_the_door(scope: Scope) -> Entry | None:
    """An anonymous ``GET .../versions/latest`` that missed the cache, answered before routing.

    The most asked-for read: the same ``latest_releases`` body, in the same cache entry,
    ``get_version`` would make, without the framework around it. None (any query, a
    token, no such release) sends the request to ``get_version``.
    """
    match = _LATEST_PATH.fullmatch(scope["path"]) if not scope["query_string"] else None
    key = request_key(scope) if match is not None else None
    if match is None or key is None:
        return None
    rt = runtime(scope["app"])
    cache = rt.cache
    started = cache.mark()
    body = await rt.latest_releases.get(f"{match[1]}/{match[2]}")
    if body is None:
        return None
    entry = cache.entry(body)
    cache.put(key, entry, started)
    return entry


def latest_releases(request: Request) -> Coalescer[str, bytes]:
    return runtime(request.app).latest_releases


def latest_loader(engine: sa.Engine) -> Coalescer[str, bytes]:
    """The JSON body of ``latest`` by server name; concurrent misses share one statement, and
    the batch is rendered on its worker thread, off the event loop."""

    return Coalescer(lambda names: discovery.latest_bodies(engine, names))


async def edit_version(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    body = await json_object(request)
    private = runtime(request.app).settings.allow_private_remotes

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = releases.update_draft(session, principal, name, version, body, private_remotes=private)
        return {"server": orjson.loads(release.document), "_meta": {}}

    return json_response(request, await run(request, work, write=True))


def status_response(session: Session, release: Release) -> dict[str, Any]:
    """The ``ServerResponse`` of a status change, naming where the release still runs."""
    body = server_response(release)
    where = running.where_running_release(session, release)
    if where:
        body["_meta"][running.RUNNING] = [p.as_dict() for p in where]
    return body


async def delete_version(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    force = query_bool(request, "force")

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = releases.set_status(session, principal, name, version, "deleted", force=force)
        return status_response(session, release)

    return json_response(request, await run(request, work, write=True))


async def patch_status(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = releases.set_status(
            session,
            principal,
            name,
            version,
            body.get("status"),
            body.get("statusMessage"),
            force=body.get("force", False),
        )
        return status_response(session, release)

    return json_response(request, await run(request, work, write=True))


async def patch_status_all(request: Request) -> Response:
    name = server_name(request)
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        rows = releases.set_status_all(
            session,
            principal,
            name,
            body.get("status"),
            body.get("statusMessage"),
            force=body.get("force", False),
        )
        return {"updatedCount": len(rows), "servers": [status_response(session, r) for r in rows]}

    return json_response(request, await run(request, work, write=True))


async def publish(request: Request) -> Response:
    body = await json_object(request)
    private = runtime(request.app).settings.allow_private_remotes

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = releases.create_release(
            session, principal, body, official_rules=True, private_remotes=private
        )
        return server_response(release)

    return json_response(request, await run(request, work, write=True))


async def validate(request: Request) -> Response:
    """Check a server.json without storing it: schema, registry and publish rules, SemVer.

    Answers the official shape, ``{"valid", "issues": [{type, path, message, severity,
    reference}]}``.
    """
    body = await json_object(request)
    errors = validation_errors(body, private_remotes=runtime(request.app).settings.allow_private_remotes)
    seen = {(e["field"], e["rule"]) for e in errors}
    errors += [v.as_dict() for v in publish_violations(body) if (v.field, v.rule) not in seen]
    version = body.get("version")
    if isinstance(version, str):
        try:
            parse_version(version, field="/version")
        except ValidationFailed as exc:
            errors.append({"field": "/version", "rule": "semver", "message": exc.detail})
    return json_response(request, validation_result(errors))


async def health(request: Request) -> Response:
    return json_response(request, {"status": "ok"})


async def ping(request: Request) -> Response:
    return json_response(request, {"pong": True})


async def version(request: Request) -> Response:
    return json_response(
        request, {"version": mcpreg.__version__, "git_commit": "unknown", "build_time": "unknown"}
    )
