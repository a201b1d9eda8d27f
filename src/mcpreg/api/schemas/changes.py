"""The change journal (``/api/audit``) and the change generation (``/api/changes``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Query
from mcpreg.api.schemas.operations import Operation


class Changes(Answer):
    generation: int = Field(description="the registry's change counter")
    changed: bool = Field(description="whether it moved past `after`")


class ChangesQuery(Query):
    after: int = Field(default=-1, ge=-1, le=2**62, description="the generation the client has seen")
    wait: int = Field(default=25, ge=0, le=30, description="seconds to wait for a change")


class JournalEntry(Answer):
    id: int
    at: datetime
    actor: str
    action: str = Field(examples=["release.publish"])
    server: str | None
    version: str | None
    environment: str | None
    before: Any = Field(description="the previous value (null: none)")
    after: Any = Field(description="the new value (null: none)")
    reason: str | None


class PageMetadata(Answer):
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: the last")
    count: int


class AuditPage(Answer):
    entries: list[JournalEntry] = Field(description="newest first")
    metadata: PageMetadata


class AuditQuery(Query):
    cursor: str | None = None
    limit: int = Field(default=50, ge=1, le=500)
    server: str | None = None
    environment: str | None = None
    action: str | None = Field(default=None, description="an action prefix, e.g. `release.`")
    since: datetime | None = Field(default=None, description="RFC 3339, with a time zone")


OPERATIONS = (
    Operation(
        "GET",
        "/api/changes",
        "Long-poll the change generation: answers as soon as it moves past `after`",
        "changes",
        answer=Changes,
        query=ChangesQuery,
        codes=("validation_failed",),
    ),
    Operation(
        "GET",
        "/api/audit",
        "The change journal, newest first (admin)",
        "changes",
        answer=AuditPage,
        query=AuditQuery,
        auth="required",
        codes=("validation_failed", "invalid_cursor"),
    ),
)
