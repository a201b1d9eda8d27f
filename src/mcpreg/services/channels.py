"""Channels (npm-style dist-tags): named pointers to releases. ``latest`` is automatic."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from mcpreg.db.tables import Channel, Release
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.domain.versions import LATEST, check_channel_name
from mcpreg.errors import Conflict, NotFound, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.discovery import channel_release
from mcpreg.services.releases import DRAFT, get_release, get_server
from mcpreg.services.tokens import require


def _refuse_latest(channel: str) -> None:
    if channel == LATEST:
        raise ValidationFailed(
            "'latest' is maintained by the registry: it follows the highest active stable release",
            field="channel",
            code="reserved_channel",
        )


@dataclass(frozen=True)
class ChannelPointer:
    """Where a server's channel points: the release's version and status."""

    server: str
    channel: str
    version: str
    status: str

    @classmethod
    def of(cls, name: str, channel: str, release: Release) -> ChannelPointer:
        return cls(name, channel, release.version, release.status)


def get_channel(session: Session, name: str, channel: str) -> ChannelPointer:
    server = get_server(session, name)
    release = channel_release(session, server, channel)
    if release is None:
        raise NotFound(f"{name} has no channel {channel!r}", field="channel", code="channel_not_found")
    return ChannelPointer.of(name, channel, release)


def list_channels(session: Session, name: str) -> list[ChannelPointer]:
    server = get_server(session, name)
    result = []
    latest = channel_release(session, server, LATEST)
    if latest is not None:
        result.append(ChannelPointer.of(name, LATEST, latest))
    rows = session.exec(
        select(Channel, Release)
        .join(Release, col(Channel.release_id) == col(Release.id))
        .where(Channel.server_id == server.id)
        .order_by(Channel.name)
    )
    result.extend(ChannelPointer.of(name, c.name, r) for c, r in rows)
    return result


def set_channel(
    session: Session, principal: Principal, name: str, channel: str, version: object
) -> ChannelPointer:
    """Point a channel at a published, undeleted release."""
    check_channel_name(channel)
    _refuse_latest(channel)
    if not isinstance(version, str):
        raise ValidationFailed("give the version the channel points to", field="version")
    server = get_server(session, name, lock=True)
    require(principal, "publish", server=name)
    release = get_release(session, server, version)
    if release.status in (DRAFT, "deleted"):
        raise Conflict(
            f"a channel can only point at a published release; {release.version} is {release.status}",
            field="version",
            code="release_not_published",
        )
    row = session.get(Channel, (server.id, channel))
    before = None
    if row is None:
        row = Channel(
            server_id=server.id or 0, name=channel, release_id=release.id or 0, updated_by=principal.name
        )
    else:
        old = session.get(Release, row.release_id)
        before = old.version if old else None
        row.release_id = release.id or 0
    row.updated_at, row.updated_by = utcnow(), principal.name
    session.add(row)
    journal.record(
        session,
        principal,
        "channel.set",
        server_name=name,
        version=release.version,
        before={"channel": channel, "version": before},
        after={"channel": channel, "version": release.version},
    )
    return ChannelPointer.of(name, channel, release)


def delete_channel(session: Session, principal: Principal, name: str, channel: str) -> None:
    _refuse_latest(channel)
    server = get_server(session, name, lock=True)
    require(principal, "publish", server=name)
    row = session.get(Channel, (server.id, channel))
    if row is None:
        raise NotFound(f"{name} has no channel {channel!r}", field="channel", code="channel_not_found")
    old = session.get(Release, row.release_id)
    session.delete(row)
    journal.record(
        session,
        principal,
        "channel.delete",
        server_name=name,
        before={"channel": channel, "version": old.version if old else None},
    )


def channels_of(session: Session, release: Release) -> list[str]:
    names = list(session.exec(select(Channel.name).where(Channel.release_id == release.id)))
    return ([LATEST] if release.is_latest else []) + sorted(names)
