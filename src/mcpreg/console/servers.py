"""The server page: version history newest SemVer first, and the release actions.

Each row: the version (pre-releases and drafts marked), its status, when it was made and
published (relative, UTC and local on hover and focus), who made it, its channels and where
it runs. Drafts show to tokens over the server (the API's rule), deleted releases too.
Actions, for publish tokens over the server: duplicate into a draft, publish a draft,
deprecate, delete or restore with a message, move or remove a channel. Editing a published
release is not possible; its edit page offers to duplicate it instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import server_name
from mcpreg.api.schemas.deployments import ServerSource
from mcpreg.api.schemas.health import TargetHealth
from mcpreg.console.templating import render
from mcpreg.console.visits import (
    Visitor,
    back_to,
    form_text,
    may_publish,
    may_see_drafts,
    page,
    submit,
    visit,
)
from mcpreg.db.tables import Release
from mcpreg.domain.versions import LATEST
from mcpreg.errors import RegistryError, ValidationFailed
from mcpreg.services import channels, discovery, environments, health, releases, running
from mcpreg.services.mirror.provenance import server_source
from mcpreg.services.releases import DRAFT

STATUS_CHOICES = ("active", "deprecated", "deleted")


@dataclass(frozen=True)
class Row:
    version: str
    status: str
    prerelease: bool
    latest: bool
    created_at: datetime
    published_at: datetime | None
    created_by: str
    status_message: str | None
    channels: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT


def path_of(name: str) -> str:
    return f"/console/servers/{name}"


def history(session: Session, visitor: Visitor, name: str) -> list[Row]:
    """Every release the visitor may see, newest SemVer first."""
    server = releases.get_server(session, name)
    privileged = may_see_drafts(visitor.principal, name)
    shown: list[Release] = [
        r for r in releases.all_releases(session, server) if privileged or r.status not in (DRAFT, "deleted")
    ]
    where = running.placements(session, server, {r.version for r in shown})
    pointing: dict[str, list[str]] = {}  # version -> the channels at it, ``latest`` first
    for c in channels.list_channels(session, name):
        pointing.setdefault(c.version, []).append(c.channel)
    return [
        Row(
            version=r.version,
            status=r.status,
            prerelease=r.is_prerelease,
            latest=r.is_latest,
            created_at=r.created_at,
            published_at=r.published_at,
            created_by=r.created_by,
            status_message=r.status_message,
            channels=pointing.get(r.version, []),
            running=[f"{p.environment} ({p.track})" for p in where.get(r.version, [])],
        )
        for r in shown
    ]


def _source(session: Session, name: str) -> dict[str, Any] | None:
    """Where a mirrored server came from, as the API shows it (None: a local server)."""
    found = server_source(session, name)
    return None if found is None else ServerSource.of(found).model_dump(mode="json")


def _health(session: Session, visitor: Visitor, name: str) -> list[dict[str, Any]]:
    """The prober's report of every environment where the server runs that the visitor may
    read (the API's rule: ``read`` over the server and the environment)."""
    reports = []
    for env in environments.list_environments(session):
        try:
            report = health.target_health(session, visitor.principal, env.name, name)
        except RegistryError:
            continue
        if report.versions:  # as the API shows it (times kept as datetimes for the page)
            reports.append(TargetHealth.of(report).model_dump())
    return reports


@page
async def server_page(request: Request) -> Response:
    name = server_name(request)

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        rows = history(session, visitor, name)
        server = releases.get_server(session, name)
        latest = releases.latest_version(session, server)
        return {
            "visitor": visitor,
            "rows": rows,
            "latest": latest,
            "channels": [c for c in channels.list_channels(session, name) if c.channel != LATEST],
            "can_publish": may_publish(visitor.principal, name),
            "can_see_drafts": may_see_drafts(visitor.principal, name),
            "source": _source(session, server.name),
            "health": _health(session, visitor, server.name),
        }

    context = await visit(request, work)
    published = [r.version for r in context["rows"] if not r.is_draft and r.status != "deleted"]
    return render(
        request,
        "server.html",
        {**context, "title": name, "name": name, "published": published, "statuses": STATUS_CHOICES},
    )


def _version(request: Request) -> str:
    return str(request.path_params["version"])


@page
async def duplicate(request: Request) -> Response:
    name, version = server_name(request), _version(request)

    def work(session: Session, visitor: Visitor, form: FormData) -> str:
        new_version = form_text(form, "version", limit=255)
        return releases.duplicate(session, visitor.principal, name, version, new_version).version

    created = await submit(request, work)
    return back_to(path_of(name), f"Draft {created} created from {version}.")


@page
async def publish(request: Request) -> Response:
    name, version = server_name(request), _version(request)

    def work(session: Session, visitor: Visitor, _form: FormData) -> None:
        releases.publish_draft(session, visitor.principal, name, version)

    await submit(request, work)
    return back_to(path_of(name), f"{version} is published.")


@page
async def set_status(request: Request) -> Response:
    name, version = server_name(request), _version(request)

    def work(session: Session, visitor: Visitor, form: FormData) -> str:
        status = form_text(form, "status", limit=16)
        message = form_text(form, "message", required=False)
        force = form.get("force") == "true"
        release = releases.set_status(
            session,
            visitor.principal,
            name,
            version,
            status,
            None if status == "active" else message,
            force=force,
        )
        return release.status

    status = await submit(request, work)
    said = "restored (active)" if status == "active" else status
    return back_to(path_of(name), f"{version} is {said}.")


@page
async def move_channel(request: Request) -> Response:
    name = server_name(request)

    def work(session: Session, visitor: Visitor, form: FormData) -> str:
        channel = form_text(form, "channel", limit=100) or ""
        version = form_text(form, "version", required=False, limit=255)
        if form.get("remove") == "true":
            channels.delete_channel(session, visitor.principal, name, channel)
            return f"Channel {channel} removed."
        if version is None:
            raise ValidationFailed("choose the version the channel points at", field="version")
        channels.set_channel(session, visitor.principal, name, channel, version)
        return f"Channel {channel} now points at {version}."

    said = await submit(request, work)
    return back_to(path_of(name), said)


@page
async def edit_page(request: Request) -> Response:
    """A draft's server.json in a text area; a published release offers a duplicate instead."""
    name, version = server_name(request), _version(request)

    def work(session: Session, visitor: Visitor) -> dict[str, Any]:
        drafts = may_see_drafts(visitor.principal, name)
        release = discovery.lookup(session, name, version, include_deleted=True, include_drafts=drafts)
        document = orjson.dumps(orjson.loads(release.document), option=orjson.OPT_INDENT_2).decode()
        return {"visitor": visitor, "status": release.status, "document": document}

    context = await visit(request, work)
    return render(
        request,
        "edit.html",
        {
            **context,
            "title": f"Edit {name} {version}",
            "name": name,
            "version": version,
            "can_publish": may_publish(context["visitor"].principal, name),
        },
    )


@page
async def save_draft(request: Request) -> Response:
    name, version = server_name(request), _version(request)

    def work(session: Session, visitor: Visitor, form: FormData) -> None:
        text = form_text(form, "document", limit=1_000_000) or ""
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed(f"the server.json is not valid JSON: {exc}", field="document") from None
        releases.update_draft(session, visitor.principal, name, version, document)

    await submit(request, work)
    return back_to(path_of(name), f"Draft {version} saved.")
