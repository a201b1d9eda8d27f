"""The gateway's rate limits: an environment's default and per-server overrides."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Body
from mcpreg.api.schemas.operations import Operation
from mcpreg.domain.rate_limits import MAX_BURST, MAX_RATE


class RateLimit(Answer):
    environment: str
    server: str | None = Field(description="null: the environment's default for every server")
    rate: float | None = Field(
        description="requests a second for the server in the environment (all clients)"
    )
    burst: int | None
    client_rate: float | None = Field(description="requests a second for each client (routing key)")
    client_burst: int | None
    updated_at: datetime
    updated_by: str


class RateLimitList(Answer):
    environment: str
    limits: list[RateLimit]


class RateLimitBody(Body):
    """Each pair together or not at all, at least one pair."""

    rate: float | None = Field(default=None, gt=0, le=MAX_RATE)
    burst: int | None = Field(default=None, ge=1, le=MAX_BURST)
    client_rate: float | None = Field(default=None, gt=0, le=MAX_RATE)
    client_burst: int | None = Field(default=None, ge=1, le=MAX_BURST)


ENV = "/api/environments/{env}"
TARGET = f"{ENV}/servers/{{namespace}}/{{server}}"
_FOUND = ("environment_not_found", "environment_denied")
_SERVER = (*_FOUND, "server_not_found", "namespace_denied")


def _three(path: str, what: str, codes: tuple[str, ...]) -> tuple[Operation, ...]:
    return (
        Operation(
            "GET",
            path,
            f"The rate limit of {what}",
            "rate limits",
            answer=RateLimit,
            auth="required",
            codes=(*codes, "not_found"),
        ),
        Operation(
            "PUT",
            path,
            f"Set the rate limit of {what}",
            "rate limits",
            answer=RateLimit,
            body=RateLimitBody,
            auth="required",
            codes=(*codes, "validation_failed"),
        ),
        Operation(
            "DELETE",
            path,
            f"Remove the rate limit of {what}",
            "rate limits",
            answer=None,
            status=204,
            auth="required",
            codes=(*codes, "not_found"),
        ),
    )


OPERATIONS = (
    Operation(
        "GET",
        f"{ENV}/rate-limits",
        "The environment's default rate limit and every per-server one the caller may read",
        "rate limits",
        answer=RateLimitList,
        auth="required",
        codes=_FOUND,
    ),
    *_three(f"{ENV}/rate-limit", "the environment (every server without its own)", _FOUND),
    *_three(f"{TARGET}/rate-limit", "one server in the environment", _SERVER),
)
