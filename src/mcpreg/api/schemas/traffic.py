"""Gateway traffic: what the gateway proxied of one server in one environment, per version."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Query
from mcpreg.api.schemas.deployments import TARGET, TARGET_CODES
from mcpreg.api.schemas.operations import Operation
from mcpreg.domain import traffic
from mcpreg.domain.traffic import WINDOW_RULE, rounded
from mcpreg.services import traffic as reports

Outcome = Literal["ok", "jsonrpc_error", "tool_error", "upstream_5xx", "timeout", "refused"]


class Latency(Answer):
    p50: float | None = Field(description="seconds; null without requests")
    p95: float | None
    p99: float | None
    mean: float | None


class VersionTraffic(Answer):
    version: str
    track: Literal["stable", "canary"] = Field(description="the track of its latest interval")
    requests: int = Field(ge=0)
    errors: int = Field(ge=0, description="requests whose outcome was not ok")
    request_rate: float | None = Field(description="requests per second over the window")
    error_rate: float | None = Field(ge=0, le=1)
    latency_seconds: Latency = Field(description="from the latency histogram summed over replicas")
    outcomes: dict[Outcome, int]

    @classmethod
    def of(cls, value: traffic.VersionTraffic) -> Self:
        """The figures of one version's sums: rates and seconds rounded to 6 digits."""
        latency = {name: rounded(value.latency(q)) for name, q in reports.QUANTILES}
        return cls.model_validate(
            {
                "version": value.version,
                "track": value.track,
                "requests": value.requests,
                "errors": value.errors,
                "request_rate": rounded(value.request_rate),
                "error_rate": rounded(value.error_rate),
                "latency_seconds": {**latency, "mean": rounded(value.mean_seconds)},
                "outcomes": dict(sorted(value.outcomes.items())),
            }
        )


class TrafficReport(Answer):
    server: str
    environment: str
    window: str
    window_seconds: int = Field(ge=1, le=86400)
    since: datetime
    until: datetime
    replicas: int = Field(ge=0, description="replicas that reported traffic in the window")
    versions: list[VersionTraffic] = Field(description="stable first, then by requests")

    @classmethod
    def of(cls, value: reports.TrafficReport) -> Self:
        return cls(
            server=value.server,
            environment=value.environment,
            window=value.window,
            window_seconds=value.window_seconds,
            since=value.since,
            until=value.until,
            replicas=value.replicas,
            versions=[VersionTraffic.of(v) for v in value.versions],
        )


class TrafficQuery(Query):
    window: str = Field(default="5m", description=WINDOW_RULE)


OPERATIONS = (
    Operation(
        "GET",
        f"{TARGET}/traffic",
        "The gateway's traffic per version over a window, summed over every replica",
        "gateway",
        answer=TrafficReport,
        query=TrafficQuery,
        auth="required",
        codes=(*TARGET_CODES, "permission_denied", "invalid_window"),
    ),
)
