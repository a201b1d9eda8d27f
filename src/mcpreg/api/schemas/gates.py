"""Promotion gates: an environment's gates, and the runs and waits of a target's rollout."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, Body, LeftOut, Omitted
from mcpreg.api.schemas.operations import Operation
from mcpreg.domain.gates import MAX_RETRY, MAX_SECRET, MAX_TIMEOUT, MIN_SECRET

Kind = Literal["webhook", "testset"]
Point = Literal["deploy", "step", "promote"]
Result = Literal["running", "pass", "fail", "error"]


class Retry(Answer):
    initial_seconds: float = Field(description="the wait after a first failure; doubled each attempt")
    max_seconds: float = Field(description="the longest wait between two attempts")


class Gate(Answer):
    """A gate of an environment (never its secret: only whether one is set)."""

    name: str
    environment: str
    deployment_id: int | None = Field(
        default=None, exclude_if=lambda v: v is None, description="a deploy or promote request's own gate"
    )
    kind: Kind
    points: list[Point] = Field(description="where it applies: before deploying, each step, the promotion")
    url: str | None = LeftOut
    timeout_seconds: float | None = LeftOut
    secret_set: bool | None = Field(default=None, exclude_if=lambda v: v is None, description="webhook only")
    testset: str | None = LeftOut
    retry: Retry


class GateList(Answer):
    environment: str
    gates: list[Gate]


class RetryBody(Body):
    initial_seconds: float | Omitted = Field(default=None, ge=0.1, le=MAX_RETRY)
    max_seconds: float | Omitted = Field(default=None, ge=0.1, le=MAX_RETRY)


class GateBody(Body):
    """A webhook (``url``, ``secret``) or a test set (``testset``); ``points`` default to all three."""

    name: str | Omitted = Field(default=None, description="the path's name; required in a request's `gates`")
    kind: Kind
    points: list[Point] | Omitted = Field(default=None)
    url: str | Omitted = Field(default=None, description="webhook: where the signed POST goes")
    secret: str | Omitted = Field(
        default=None,
        min_length=MIN_SECRET,
        max_length=MAX_SECRET,
        description="webhook: the HMAC-SHA256 signing secret (sealed; never shown again); "
        "left out on a change, the old one is kept",
    )
    timeout_seconds: float | Omitted = Field(default=None, gt=0, le=MAX_TIMEOUT, description="default 10")
    testset: str | Omitted = Field(default=None, description="testset: the test set's name")
    retry: RetryBody | Omitted = Field(default=None, description="default: 1 s doubling to 60 s")


class GateRun(Answer):
    """One attempt of one gate at one point of a deployment."""

    id: int
    deployment_id: int
    rollout_id: str | None
    version: str
    point: Point
    step: int = Field(description="the step about to be entered (0 at `deploy`)")
    gate: str
    kind: Kind
    attempt: int
    result: Result
    http_status: int | None
    failure: str | None
    failing: list[str] = Field(description="a test set's failing cases")
    elapsed_ms: float | None
    delivery_id: str | None = Field(description="a webhook's X-Mcpreg-Delivery")
    testset_run_id: int | None
    started_at: datetime
    finished_at: datetime | None
    retry_at: datetime | None = Field(description="when a failed attempt is tried again")


class GateWait(Answer):
    """A gate the deployment or the rollout's next step waits on."""

    gate: str
    kind: Kind
    point: Point
    step: int
    attempt: int = Field(description="attempts so far (0: not tried yet)")
    result: Result | None
    failure: str | None
    failing: list[str]
    retry_at: datetime | None


class TargetGates(Answer):
    server: str
    environment: str
    rollout_id: str | None
    held_deployment: int | None = Field(description="a deployment held by its `deploy` gates")
    gates: list[Gate] = Field(
        description="the gates the held deployment, else the running rollout, answers to "
        "(the environment's and its own); with neither, the environment's"
    )
    waiting_on: list[GateWait] = Field(description="what the held deployment or the next step waits on")
    runs: list[GateRun] = Field(description="newest first")


ENV = "/api/environments/{env}"
_FOUND = ("environment_not_found", "environment_denied", "invalid_environment_name")
_GATE = (*_FOUND, "invalid_gate")

OPERATIONS = (
    Operation(
        "GET",
        f"{ENV}/gates",
        "The environment's gates",
        "gates",
        answer=GateList,
        auth="required",
        codes=_FOUND,
    ),
    Operation(
        "GET",
        f"{ENV}/gates/{{name}}",
        "One gate of the environment",
        "gates",
        answer=Gate,
        auth="required",
        codes=(*_GATE, "gate_not_found"),
    ),
    Operation(
        "PUT",
        f"{ENV}/gates/{{name}}",
        "Declare or replace a gate of the environment (admin)",
        "gates",
        answer=Gate,
        also=(201,),
        body=GateBody,
        auth="required",
        codes=_GATE,
    ),
    Operation(
        "DELETE",
        f"{ENV}/gates/{{name}}",
        "Remove a gate of the environment (admin)",
        "gates",
        answer=None,
        status=204,
        auth="required",
        codes=(*_GATE, "gate_not_found"),
    ),
    Operation(
        "GET",
        f"{ENV}/servers/{{namespace}}/{{server}}/gates",
        "The gate runs of the target's deployments and what its rollout waits on",
        "gates",
        answer=TargetGates,
        auth="required",
        codes=(*_FOUND, "server_not_found", "namespace_denied"),
    ),
)
