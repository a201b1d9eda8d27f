"""The subregistry's upstreams and their sync runs (``/api/upstreams``; admin)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Body, LeftOut, Omitted, Query
from mcpreg.api.schemas.operations import Operation

UPSTREAMS = "/api/upstreams"
UPSTREAM = "/api/upstreams/{name}"


class Upstream(Answer):
    name: str
    url: str = Field(description="the upstream's official API base, up to /v0.1")
    namespaces: list[str] = Field(description="name patterns mirrored; empty: every name")
    exclude: list[str]
    interval_seconds: int = Field(description="background sync interval")
    token: bool = Field(description="whether a bearer token is set (it is never shown)")
    created_at: datetime
    created_by: str
    updated_at: datetime


class RefusedEntry(Answer):
    name: str
    version: str
    reason: str = Field(description="the code, the field and the rule that failed, or the name clash")


class SyncRun(Answer):
    id: int
    kind: Literal["full", "incremental"]
    state: Literal["running", "ok", "failed"]
    resumed: bool = Field(description="continued an interrupted sync at its next page")
    updated_since: datetime | None = Field(description="null: a full sync")
    pages: int
    added: int
    updated: int
    unchanged: int
    refused: int
    skipped: int = Field(description="outside the namespaces, or kept out by curation")
    vanished: int = Field(
        description="mirrored releases a complete full sync no longer found upstream, marked deleted here"
    )
    seconds: float
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    started_by: str
    refused_entries: list[RefusedEntry] | Omitted = LeftOut


class UpstreamDetail(Upstream):
    last_run: SyncRun | None


class UpstreamList(Answer):
    upstreams: list[Upstream]


class Runs(Answer):
    runs: list[SyncRun]


class UpstreamBody(Body):
    name: str = Field(examples=["public"], description="1-64 of a-z, 0-9, '-', starting with a letter")
    url: str = Field(examples=["https://registry.example/v0.1"])
    namespaces: list[str] | Omitted = None
    exclude: list[str] | Omitted = None
    interval: str | Omitted = Field(default=None, examples=["10m"], description="10 s to 7 days")
    token: str | Omitted = Field(default=None, description="a bearer token for the upstream, sealed")


class UpstreamChange(Body):
    url: str | Omitted = None
    namespaces: list[str] | Omitted = None
    exclude: list[str] | Omitted = None
    interval: str | Omitted = None
    token: str | Omitted = Field(default=None, description='"" removes the token')


class SyncQuery(Query):
    full: bool = Field(
        default=False,
        description="read everything again, not only what changed, and mark as vanished (deleted "
        "here) the mirrored releases the upstream no longer lists",
    )


class RunsQuery(Query):
    limit: int = Field(default=20, ge=1, le=100)
    refused: bool = False


_INPUT = ("invalid_upstream", "unknown_field", "validation_failed")

OPERATIONS = (
    Operation(
        "GET", UPSTREAMS, "Every declared upstream (admin)", "upstreams", answer=UpstreamList, auth="required"
    ),
    Operation(
        "POST",
        UPSTREAMS,
        "Declare an upstream registry (admin)",
        "upstreams",
        answer=Upstream,
        status=201,
        body=UpstreamBody,
        auth="required",
        codes=(*_INPUT, "upstream_exists"),
    ),
    Operation(
        "GET",
        UPSTREAM,
        "One upstream and its last sync run (admin)",
        "upstreams",
        answer=UpstreamDetail,
        auth="required",
        codes=("upstream_not_found",),
    ),
    Operation(
        "PATCH",
        UPSTREAM,
        "Change an upstream (admin)",
        "upstreams",
        answer=Upstream,
        body=UpstreamChange,
        auth="required",
        codes=(*_INPUT, "upstream_not_found"),
    ),
    Operation(
        "DELETE",
        UPSTREAM,
        "Forget an upstream; its releases stay, as local ones (admin)",
        "upstreams",
        status=204,
        auth="required",
        codes=("upstream_not_found",),
    ),
    Operation(
        "POST",
        f"{UPSTREAM}/sync",
        "Sync an upstream now; answers its run when it ends (admin)",
        "upstreams",
        answer=SyncRun,
        query=SyncQuery,
        auth="required",
        codes=("upstream_not_found", "sync_in_progress", "upstream_failed", "validation_failed"),
    ),
    Operation(
        "GET",
        f"{UPSTREAM}/runs",
        "An upstream's sync runs, newest first (admin)",
        "upstreams",
        answer=Runs,
        query=RunsQuery,
        auth="required",
        codes=("upstream_not_found", "validation_failed"),
    ),
)
