"""Environments (``/api/environments``): the promotion order and each one's flags."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Body, Omitted
from mcpreg.api.schemas.operations import Operation
from mcpreg.domain.environments import PATTERN

ENVIRONMENT_NAME = f"^{PATTERN.pattern}$"


class Environment(Answer):
    name: str
    position: int = Field(description="0 first in the promotion order")
    protected: bool = Field(description="deploying needs the `deploy` scope")
    requires_approval: bool
    allow_prereleases: bool
    gateway_public: bool = Field(description="the gateway serves it without a token")
    analysis: dict[str, Any] | Omitted | None = Field(
        default=None, description="the default analysis of rollouts here (`checks`); null: none"
    )
    description: str
    created_at: datetime
    updated_at: datetime


class EnvironmentList(Answer):
    environments: list[Environment] = Field(description="in promotion order")


class EnvironmentCreate(Body):
    name: str = Field(pattern=ENVIRONMENT_NAME, examples=["qa"])
    position: int | Omitted = Field(default=None, ge=0, description="default: last; the others shift")
    protected: bool = False
    requires_approval: bool = False
    allow_prereleases: bool = False
    gateway_public: bool = False
    analysis: dict[str, Any] | None = Field(default=None, description="`{checks: [...]}`, null: none")
    description: str = Field(default="", max_length=500)


class EnvironmentUpdate(Body):
    """Flags, description or position; ``name`` may be sent, but an environment is never renamed."""

    name: str | Omitted = None
    position: int | Omitted = Field(default=None, ge=0)
    protected: bool | Omitted = None
    requires_approval: bool | Omitted = None
    allow_prereleases: bool | Omitted = None
    gateway_public: bool | Omitted = None
    analysis: dict[str, Any] | None = Field(default=None, description="`{checks: [...]}`, null: none")
    description: str | Omitted = Field(default=None, max_length=500)


ENV = "/api/environments/{env}"
_NAMED = ("environment_not_found", "invalid_environment_name")

OPERATIONS = (
    Operation(
        "GET", "/api/environments", "Environments in promotion order", "environments", answer=EnvironmentList
    ),
    Operation(
        "POST",
        "/api/environments",
        "Create an environment (admin); the ones after it shift",
        "environments",
        answer=Environment,
        status=201,
        body=EnvironmentCreate,
        auth="required",
        codes=("validation_failed", "unknown_field", "invalid_environment_name", "environment_exists"),
    ),
    Operation("GET", ENV, "One environment", "environments", answer=Environment, codes=_NAMED),
    Operation(
        "PATCH",
        ENV,
        "Change an environment's flags, description or position (admin)",
        "environments",
        answer=Environment,
        body=EnvironmentUpdate,
        auth="required",
        codes=(*_NAMED, "validation_failed", "unknown_field", "immutable_name", "no_changes"),
    ),
)
