"""The prober's health of what runs of one server in one environment."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer
from mcpreg.api.schemas.operations import Operation


class VersionHealth(Answer):
    version: str
    track: Literal["stable", "canary"]
    state: Literal["healthy", "degraded", "unhealthy"] | None = Field(description="null: not probed yet")
    failures: int = Field(description="consecutive failed probes")
    successes: int = Field(description="consecutive good probes")
    checked_at: datetime | None
    changed_at: datetime | None
    detail: str | None = Field(description="the last failure's reason, while not healthy")


class TargetHealth(Answer):
    server: str
    environment: str
    versions: list[VersionHealth] = Field(description="stable first, then the canary")
    note: str | None = Field(
        description="an unhealthy canary bypassed, or an unhealthy stable beside a healthy canary"
    )


OPERATIONS = (
    Operation(
        "GET",
        "/api/environments/{env}/servers/{namespace}/{server}/health",
        "The prober's state of the stable and canary versions",
        "health",
        answer=TargetHealth,
        auth="required",
        codes=("environment_not_found", "environment_denied", "server_not_found", "namespace_denied"),
    ),
)
