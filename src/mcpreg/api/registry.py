"""mcpreg's own release API under ``/api/servers``: drafts, channels, ranges, diffs."""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, query_bool, run, server_name
from mcpreg.api.runtime import runtime
from mcpreg.api.schemas import releases as schema
from mcpreg.api.schemas.releases import Channel, ChannelList
from mcpreg.db.tables import Release
from mcpreg.domain.diff import diff_documents
from mcpreg.domain.principal import Principal
from mcpreg.domain.timestamps import rfc3339
from mcpreg.domain.versions import check_range
from mcpreg.errors import ValidationFailed
from mcpreg.services import channels, discovery, releases
from mcpreg.services.mirror import provenance
from mcpreg.services.tokens import require
from mcpreg.services.views import MCPREG, Source, document_of, server_response

SERVER = "/api/servers/{namespace}/{server}"


def release_answer(
    release: Release, channel_names: list[str] | None = None, source: Source | None = None
) -> dict[str, Any]:
    """``/api``'s release answer (``schemas.releases.Release``; drafts included): the official
    response plus lifecycle facts. Written as JSON values, not through the model, because the
    server.json goes out byte for byte as it was stored; the OpenAPI tests check the shape."""
    body = (
        server_response(release, source)
        if release.status != "draft"
        else {"server": document_of(release), "_meta": {}}
    )
    body["_meta"].setdefault(MCPREG, {}).update(
        {
            "state": release.status,
            "version": release.version,
            "prerelease": release.is_prerelease,
            "createdAt": rfc3339(release.created_at),
            "createdBy": release.created_by,
            "channels": channel_names or [],
        }
    )
    return body


def _view(session: Session, release: Any) -> dict[str, Any]:
    return release_answer(
        release, channels.channels_of(session, release), provenance.source_of(session, release.id)
    )


async def create_draft(request: Request) -> Response:
    body = await json_object(request)
    name = server_name(request)
    if body.get("name") != name:
        raise ValidationFailed("the body's name must match the path", field="/name", code="name_mismatch")

    private = runtime(request.app).settings.allow_private_remotes

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = releases.create_release(
            session, principal, body, draft=True, official_rules=True, private_remotes=private
        )
        return _view(session, release)

    return json_response(request, await run(request, work, write=True), status=201)


def _may_see_drafts(principal: Principal, name: str) -> bool:
    return not principal.is_anonymous and principal.has_scope("read") and principal.covers_server(name)


async def get_release(request: Request) -> Response:
    name, ref = server_name(request), request.path_params["version"]
    include_deleted = query_bool(request, "include_deleted")

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        release = discovery.lookup(
            session,
            name,
            ref,
            include_deleted=include_deleted,
            include_drafts=_may_see_drafts(principal, name),
        )
        return _view(session, release)

    return json_response(request, await run(request, work), cacheable=True)


async def edit_draft(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    body = await json_object(request)
    private = runtime(request.app).settings.allow_private_remotes

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return _view(
            session, releases.update_draft(session, principal, name, version, body, private_remotes=private)
        )

    return json_response(request, await run(request, work, write=True))


async def publish_draft(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        return _view(session, releases.publish_draft(session, principal, name, version))

    return json_response(request, await run(request, work, write=True))


async def duplicate(request: Request) -> Response:
    name, version = server_name(request), request.path_params["version"]
    body = await json_object(request)
    private = runtime(request.app).settings.allow_private_remotes

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        copy = releases.duplicate(
            session, principal, name, version, body.get("version"), private_remotes=private
        )
        return _view(session, copy)

    return json_response(request, await run(request, work, write=True), status=201)


async def list_channels(request: Request) -> Response:
    name = server_name(request)

    def work(session: Session, _p: Principal) -> list[channels.ChannelPointer]:
        return channels.list_channels(session, name)

    listed = ChannelList(channels=[Channel.of(c) for c in await run(request, work)])
    return json_response(request, listed, cacheable=True)


async def get_channel(request: Request) -> Response:
    name, channel = server_name(request), request.path_params["channel"]

    def work(session: Session, _p: Principal) -> channels.ChannelPointer:
        return channels.get_channel(session, name, channel)

    return json_response(request, Channel.of(await run(request, work)), cacheable=True)


async def put_channel(request: Request) -> Response:
    name, channel = server_name(request), request.path_params["channel"]
    body = await json_object(request)

    def work(session: Session, principal: Principal) -> channels.ChannelPointer:
        return channels.set_channel(session, principal, name, channel, body.get("version"))

    return json_response(request, Channel.of(await run(request, work, write=True)))


async def delete_channel(request: Request) -> Response:
    name, channel = server_name(request), request.path_params["channel"]

    def work(session: Session, principal: Principal) -> None:
        channels.delete_channel(session, principal, name, channel)

    await run(request, work, write=True)
    return Response(status_code=204)


async def resolve(request: Request) -> Response:
    name = server_name(request)
    range_text = request.query_params.get("range", "")
    check_range(range_text)
    prerelease = query_bool(request, "prerelease")

    def work(session: Session, _p: Principal) -> dict[str, Any]:
        release = discovery.resolve_range(session, name, range_text, prerelease=prerelease)
        return {"range": range_text, "version": release.version, **_view(session, release)}

    return json_response(request, await run(request, work), cacheable=True)


async def diff(request: Request) -> Response:
    name = server_name(request)
    old_ref, new_ref = request.query_params.get("from"), request.query_params.get("to")
    for field, value in (("from", old_ref), ("to", new_ref)):
        if not value:
            raise ValidationFailed(f"{field} is required: a version or channel", field=field)
    assert old_ref is not None and new_ref is not None

    def work(session: Session, principal: Principal) -> schema.Diff:
        drafts = _may_see_drafts(principal, name)
        old = discovery.lookup(session, name, old_ref, include_deleted=True, include_drafts=drafts)
        new = discovery.lookup(session, name, new_ref, include_deleted=True, include_drafts=drafts)
        changes = diff_documents(orjson.loads(old.document), orjson.loads(new.document))
        return schema.Diff(from_=old.version, to=new.version, changes=[schema.Change.of(c) for c in changes])

    return json_response(request, await run(request, work), cacheable=True)


async def list_all_versions(request: Request) -> Response:
    """Every version including drafts (for publishers covering the namespace)."""
    name = server_name(request)

    def work(session: Session, principal: Principal) -> dict[str, Any]:
        require(principal, "read", server=name)
        server = releases.get_server(session, name)
        rows = releases.all_releases(session, server)
        return {"versions": [_view(session, r) for r in rows]}

    return json_response(request, await run(request, work))
