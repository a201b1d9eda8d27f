"""Alerts: rules per environment (error rate, health, automatic rollback) and their firings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Body, LeftOut, Omitted, Query
from mcpreg.api.schemas.operations import Operation
from mcpreg.domain.alerts import MAX_MIN_REQUESTS, MAX_SECRET, MAX_TIMEOUT, MAX_URL, MIN_SECRET, NAME_RULE

Kind = Literal["errorRate", "health", "rollback"]
State = Literal["degraded", "unhealthy"]


class AlertRule(Answer):
    """A rule as read: never its secret (sealed with the key ring), only that one is set."""

    environment: str
    name: str
    kind: Kind
    url: str
    server: str | None = Field(description="null: every server of the environment")
    threshold: float | None = LeftOut
    window: int | None = Field(default=None, exclude_if=lambda v: v is None, description="seconds")
    min_requests: int | None = LeftOut
    state: State | None = LeftOut
    timeout_seconds: float
    secret_set: bool
    created_at: datetime
    updated_at: datetime
    updated_by: str


class AlertRuleList(Answer):
    environment: str
    rules: list[AlertRule]


class AlertRuleBody(Body):
    """``kind`` and ``url`` always; ``secret`` to create (left out on a replace: kept).
    ``threshold``, ``window`` and ``minRequests`` only for ``errorRate``; ``state`` only for
    ``health``."""

    kind: Kind
    url: str = Field(max_length=MAX_URL, description="https (http where private remotes are allowed)")
    secret: str | Omitted = Field(
        default=None, min_length=MIN_SECRET, max_length=MAX_SECRET, description="the HMAC signing secret"
    )
    server: str | Omitted = Field(default=None, description="only this server (namespace/name)")
    threshold: float | Omitted = Field(default=None, gt=0, le=1, description="error rate, 0.05 is 5%")
    window: str | int | Omitted = Field(default=None, examples=["5m"], description="default 5m, at most 1h")
    min_requests: int | Omitted = Field(default=None, ge=1, le=MAX_MIN_REQUESTS, description="default 20")
    state: State | Omitted = Field(default=None, description="default unhealthy")
    timeout_seconds: float | Omitted = Field(default=None, gt=0, le=MAX_TIMEOUT, description="default 10")


class Attempt(Answer):
    attempt: int
    at: datetime
    status: int | None = Field(description="the receiver's HTTP status; null: no answer")
    error: str | None
    elapsed_ms: float
    delivery_id: str = Field(description="the X-Mcpreg-Delivery header of that attempt")


class AlertFiring(Answer):
    id: int
    rule: str
    kind: Kind
    environment: str
    server: str
    version: str | None
    summary: str
    numbers: dict[str, Any] = Field(description="what it fired on (requests, errors, state, the analysis)")
    fired_at: datetime
    resolved_at: datetime | None = Field(description="null: the condition still holds")
    delivery: Literal["pending", "delivered", "failed", "dropped"]
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    attempt_log: list[Attempt]


class AlertFiringList(Answer):
    environment: str
    firings: list[AlertFiring] = Field(description="newest first")


class FiringsQuery(Query):
    limit: int = Field(default=50, ge=1, le=500)
    rule: str | Omitted = Field(default=None, description=f"only this rule's ({NAME_RULE})")


ENV = "/api/environments/{env}"
_FOUND = ("environment_not_found", "environment_denied")
_RULE = (*_FOUND, "validation_failed")

OPERATIONS = (
    Operation(
        "GET",
        f"{ENV}/alerts",
        "The environment's alert rules",
        "alerts",
        answer=AlertRuleList,
        auth="required",
        codes=_FOUND,
    ),
    Operation(
        "GET",
        f"{ENV}/alerts/{{name}}",
        "One alert rule of the environment",
        "alerts",
        answer=AlertRule,
        auth="required",
        codes=(*_RULE, "namespace_denied"),
    ),
    Operation(
        "PUT",
        f"{ENV}/alerts/{{name}}",
        "Create or replace an alert rule of the environment",
        "alerts",
        answer=AlertRule,
        also=(201,),
        body=AlertRuleBody,
        auth="required",
        codes=(*_RULE, "server_not_found", "namespace_denied"),
    ),
    Operation(
        "DELETE",
        f"{ENV}/alerts/{{name}}",
        "Remove an alert rule (its open firings resolve, pending deliveries are dropped)",
        "alerts",
        answer=None,
        status=204,
        auth="required",
        codes=(*_RULE, "namespace_denied"),
    ),
    Operation(
        "GET",
        f"{ENV}/alert-firings",
        "The environment's alert firings and their deliveries, newest first",
        "alerts",
        answer=AlertFiringList,
        query=FiringsQuery,
        auth="required",
        codes=_FOUND,
    ),
)
