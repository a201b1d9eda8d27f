"""Deployment history: every deploy, promotion, step, approval, abort and rollback."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import Field
from pydantic.config import JsonDict

from mcpreg.api.schemas.base import Answer, Omitted, Query
from mcpreg.api.schemas.deployments import ENV, ENV_CODES, TARGET, TARGET_CODES, Strategy, Weight
from mcpreg.api.schemas.operations import Operation
from mcpreg.services.deploy.events import ACTIONS, HistoryPage

ACTION: JsonDict = {"enum": list(ACTIONS)}  # one list: services.deploy.events's


class HistoryEvent(Answer):
    id: int
    seq: int
    at: datetime
    actor: str
    action: str = Field(json_schema_extra=ACTION)
    server: str
    environment: str
    version: str | None
    replaced: str | None
    stable: str | None
    canary: str | None
    weight: Weight
    strategy: Strategy | None
    rollout_id: str | None
    deployment_id: int | None
    from_environment: str | None
    forced: bool
    notes: str | None
    detail: dict[str, Any] | None
    summary: str = Field(description="one line saying what happened")
    sessions_moved: int = Field(ge=0, description="gateway sessions this change moved off their version")


class HistoryMetadata(Answer):
    count: int
    next_cursor: str | None


class History(Answer):
    events: list[HistoryEvent] = Field(description="newest first")
    metadata: HistoryMetadata

    @classmethod
    def of(cls, value: HistoryPage) -> Self:
        metadata = HistoryMetadata(count=len(value.events), next_cursor=value.next_cursor)
        return cls(events=[HistoryEvent.of(e) for e in value.events], metadata=metadata)


class HistoryQuery(Query):
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = None
    action: str | Omitted = Field(default=None, json_schema_extra=ACTION)


OPERATIONS = (
    Operation(
        "GET",
        f"{TARGET}/history",
        "Every deploy, promotion, step, approval, abort and rollback of one server here",
        "history",
        answer=History,
        query=HistoryQuery,
        auth="required",
        codes=(*TARGET_CODES, "validation_failed", "invalid_cursor"),
    ),
    Operation(
        "GET",
        f"{ENV}/history",
        "Every deployment event of an environment (of the servers the token covers)",
        "history",
        answer=History,
        query=HistoryQuery,
        auth="required",
        codes=(*ENV_CODES, "validation_failed", "invalid_cursor"),
    ),
)
