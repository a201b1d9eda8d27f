"""The canary analysis of a target's rollout: its checks, verdicts per interval, decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer
from mcpreg.api.schemas.operations import Operation


class AnalysisRun(Answer):
    step: int
    check: int = Field(description="the check's index in the analysis")
    kind: Literal["errorRate", "p95", "ratioToStable", "minRequests"]
    interval: int = Field(description="the interval's index within the step")
    started_at: datetime
    ended_at: datetime
    verdict: Literal["pass", "fail", "inconclusive"]
    numbers: dict[str, Any] = Field(
        description="the canary's and stable's requests, errors, rates, p95 it was judged on"
    )
    decided_at: datetime


class AnalysisDecision(Answer):
    action: Literal["continue", "abort", "pause"]
    check: int | None
    reason: str | None


class RolloutAnalysis(Answer):
    server: str
    environment: str
    rollout_id: str | None
    status: str | None
    step: int | None
    analysis: dict[str, Any] | None = Field(description="the analysis the rollout follows; null: none")
    step_passed: bool | None = Field(
        description="whether the current step may advance (its checks' latest interval passed)"
    )
    decision: AnalysisDecision | None
    runs: list[AnalysisRun] = Field(description="newest first")


OPERATIONS = (
    Operation(
        "GET",
        "/api/environments/{env}/servers/{namespace}/{server}/analysis",
        "The canary analysis of the rollout: every interval's verdict and the decision",
        "analysis",
        answer=RolloutAnalysis,
        auth="required",
        codes=("environment_not_found", "environment_denied", "server_not_found", "namespace_denied"),
    ),
)
