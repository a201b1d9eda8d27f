"""Releases under ``/api/servers/{namespace}/{server}``: drafts, versions, channels, ranges, diffs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, LenientBody, Query
from mcpreg.api.schemas.operations import Operation
from mcpreg.domain.serverjson_models import ServerDetail

ReleaseState = Literal["draft", "active", "deprecated", "deleted"]
PublishedStatus = Literal["active", "deprecated", "deleted"]


class OfficialMeta(Answer):
    """``_meta["io.modelcontextprotocol.registry/official"]``, as the official API answers it."""

    status: PublishedStatus
    status_changed_at: datetime
    published_at: datetime
    updated_at: datetime
    is_latest: bool
    status_message: str | None = Field(default=None, description="present only when one was given")


class ReleaseMeta(Answer):
    """``_meta["dev.mcpreg/release"]``: the release's lifecycle facts."""

    state: ReleaseState
    version: str
    prerelease: bool
    created_at: datetime
    created_by: str | None
    channels: list[str] = Field(description="the channels pointing at it, `latest` first")


class ReleaseMetaBlock(Answer):
    official: OfficialMeta | None = Field(
        default=None,
        alias="io.modelcontextprotocol.registry/official",
        description="absent for a draft",
    )
    release: ReleaseMeta = Field(alias="dev.mcpreg/release")


class Release(Answer):
    """One release: its server.json and its lifecycle (drafts included)."""

    server: ServerDetail = Field(description="the server.json as published (or as drafted)")
    meta: ReleaseMetaBlock = Field(alias="_meta")


class ReleaseList(Answer):
    versions: list[Release]


class ResolvedRange(Release):
    """The highest active release in a range, with the range asked for."""

    range: str
    version: str


class Channel(Answer):
    server: str
    channel: str
    version: str
    status: ReleaseState


class ChannelList(Answer):
    channels: list[Channel] = Field(description="`latest` (when there is one) first, then by name")


class Change(Answer):
    op: Literal["added", "removed", "changed"]
    path: str = Field(description="a JSON pointer")
    old: Any
    new: Any


class Diff(Answer):
    from_: str = Field(alias="from")
    to: str
    changes: list[Change]


class VersionBody(LenientBody):
    """A version (of a channel to point at, or of the new draft)."""

    version: str = Field(examples=["1.3.0-rc.1"])


class ReleaseQuery(Query):
    include_deleted: bool = False


class RangeQuery(Query):
    range: str = Field(max_length=256, description="an npm version range (strict), e.g. ^1.2.0")
    prerelease: bool = Field(default=False, description="npm's includePrerelease")


class DiffQuery(Query):
    from_: str = Field(alias="from", description="a version or a channel")
    to: str = Field(description="a version or a channel")


SERVER = "/api/servers/{namespace}/{server}"
_DOCUMENT = (
    "validation_failed",
    "invalid_version",
    "schema_required",
    "invalid_repository_url",
    "publisher_meta_too_large",
    "remote_url_taken",
    "name_mismatch",
    "namespace_mirrored",
    "name_clash",
)
_LOOKUP = ("version_not_found", "invalid_channel", "invalid_version")

OPERATIONS = (
    Operation(
        "POST",
        f"{SERVER}/drafts",
        "Create a draft from a server.json (invisible to discovery)",
        "releases",
        answer=Release,
        status=201,
        body=ServerDetail,
        auth="required",
        codes=(*_DOCUMENT, "version_exists"),
    ),
    Operation(
        "GET",
        f"{SERVER}/versions",
        "Every version, drafts included (a token over the server)",
        "releases",
        answer=ReleaseList,
        auth="required",
    ),
    Operation(
        "GET",
        f"{SERVER}/versions/{{version}}",
        "One release: exact, `latest` or a channel (drafts for a token over the server)",
        "releases",
        answer=Release,
        query=ReleaseQuery,
        cacheable=True,
        codes=_LOOKUP,
    ),
    Operation(
        "PUT",
        f"{SERVER}/versions/{{version}}",
        "Edit a draft (published content is immutable)",
        "releases",
        answer=Release,
        body=ServerDetail,
        auth="required",
        codes=(*_DOCUMENT, *_LOOKUP, "version_mismatch", "immutable_release", "not_a_draft"),
    ),
    Operation(
        "POST",
        f"{SERVER}/versions/{{version}}/publish",
        "Publish a draft",
        "releases",
        answer=Release,
        auth="required",
        codes=(*_DOCUMENT, *_LOOKUP, "not_a_draft", "version_exists"),
    ),
    Operation(
        "POST",
        f"{SERVER}/versions/{{version}}/duplicate",
        "Copy a release into a new draft",
        "releases",
        answer=Release,
        status=201,
        body=VersionBody,
        auth="required",
        codes=(*_DOCUMENT, *_LOOKUP, "version_exists"),
    ),
    Operation(
        "GET",
        f"{SERVER}/channels",
        "`latest` and every named channel",
        "channels",
        answer=ChannelList,
        cacheable=True,
    ),
    Operation(
        "GET",
        f"{SERVER}/channels/{{channel}}",
        "The release a channel points at",
        "channels",
        answer=Channel,
        cacheable=True,
        codes=("channel_not_found", "invalid_channel"),
    ),
    Operation(
        "PUT",
        f"{SERVER}/channels/{{channel}}",
        "Point a channel at a published release",
        "channels",
        answer=Channel,
        body=VersionBody,
        auth="required",
        codes=(*_LOOKUP, "validation_failed", "reserved_channel", "release_not_published"),
    ),
    Operation(
        "DELETE",
        f"{SERVER}/channels/{{channel}}",
        "Remove a channel",
        "channels",
        auth="required",
        status=204,
        codes=("channel_not_found", "invalid_channel", "reserved_channel"),
    ),
    Operation(
        "GET",
        f"{SERVER}/resolve",
        "The highest active release in an npm-style range",
        "releases",
        answer=ResolvedRange,
        query=RangeQuery,
        cacheable=True,
        codes=("invalid_range", "no_matching_version", "validation_failed"),
    ),
    Operation(
        "GET",
        f"{SERVER}/diff",
        "What changed between two releases, as JSON pointers",
        "releases",
        answer=Diff,
        query=DiffQuery,
        cacheable=True,
        codes=(*_LOOKUP, "validation_failed"),
    ),
)
