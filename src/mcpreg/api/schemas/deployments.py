"""Deployments, rollouts, rollbacks and their history, under ``/api/environments/{env}``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, PlainSerializer, WithJsonSchema

from mcpreg.api.schemas.base import Answer, Body, Omitted, Query, left_out
from mcpreg.api.schemas.configuration import EffectiveConfig
from mcpreg.api.schemas.gates import GateBody
from mcpreg.api.schemas.operations import Header, Operation
from mcpreg.services.deploy.states import number

Strategy = Literal["immediate", "canary", "staged"]
RequestState = Literal["pending_approval", "scheduled", "held", "applied", "cancelled", "failed"]
"""``held``: waiting for its ``deploy`` gates to pass (``GET .../gates`` says on what)."""
TargetStatus = Literal["empty", "stable", "progressing", "paused_manual", "paused", "completed", "aborted"]
Weight = Annotated[
    float,
    PlainSerializer(number, return_type=int | float),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100}, mode="serialization"),
]
"""A percentage, written 25 rather than 25.0 where it is whole."""


class Step(Answer):
    weight: Weight = Field(ge=0, le=100)
    pause: str | None = left_out("`manual`, or a duration (`10m`, `1h30m`); absent on the final 100% step")


class StepBody(Body):
    weight: float = Field(gt=0, le=100)
    pause: str | Omitted = Field(default=None, examples=["10m", "manual"])


class Target(Answer):
    """What runs of one server in one environment, and where its rollout stands."""

    server: str
    environment: str
    stable: str | None
    canary: str | None
    weight: Weight = Field(description="percent of clients routed to the canary")
    rollout_id: str | None
    strategy: Strategy | None
    status: TargetStatus
    rolling_out: bool
    step: int | None = Field(description="the index of the current step")
    steps: list[Step]
    step_started_at: datetime | None
    next_step_at: datetime | None
    paused_remaining_seconds: float | None
    last_known_good: str | None
    deployed_at: datetime | None
    deployed_by: str | None
    revision: int


class Deployment(Answer):
    """A deploy or promotion request and its state."""

    id: int
    kind: Literal["deploy", "promotion"]
    server: str
    environment: str
    version: str
    strategy: Strategy
    weight: Weight | None = Field(description="the canary's weight (canary strategy)")
    steps: list[Step] | None = Field(description="the plan (staged strategy)")
    notes: str | None
    from_: str | None = Field(alias="from", description="a promotion's source environment")
    forced: bool
    state: RequestState
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    scheduled_at: datetime | None
    applied_at: datetime | None
    rollout_id: str | None
    failure: str | None


class DeploymentAnswer(Answer):
    deployment: Deployment
    current: Target = Field(description="what runs on the deployment's target now")


class DeploymentList(Answer):
    deployments: list[Deployment]


class TargetList(Answer):
    environment: str
    servers: list[Target]


class ServerSource(Answer):
    """Which upstream brought a mirrored server's releases."""

    upstream: str
    url: str
    releases: int
    synced_at: datetime | None = Field(description="when a sync last wrote one of them")


class ServerTargets(Answer):
    server: str
    environments: list[Target] = Field(description="every environment, in promotion order")
    source: ServerSource | Omitted = left_out("only for a mirrored server")


class Resolution(Answer):
    """The release (and its configuration, secrets masked) one client of a deployed server gets."""

    server: str
    environment: str
    version: str
    track: Literal["stable", "canary"]
    rollout_id: str | None
    weight: Weight
    config: EffectiveConfig


_STEPS = "weights strictly increasing, a pause after each below 100; a final 100% is implied"


class _Plan(Body):
    strategy: Strategy | Omitted = Field(default=None, description="default: immediate")
    weight: float | None = Field(default=None, gt=0, lt=100, description="canary only")
    steps: list[StepBody] | str | None = Field(
        default=None, description=f"staged only: {_STEPS}", examples=["5:10m,25:manual"]
    )
    notes: str | None = Field(default=None, max_length=2000)
    scheduled_at: datetime | None = Field(
        default=None, alias="scheduled_at", description="deploy then, not now (RFC 3339)"
    )
    scheduled_at_camel: datetime | None = Field(
        default=None, alias="scheduledAt", description="the same as `scheduled_at`"
    )
    analysis: dict[str, Any] | None = Field(
        default=None,
        description="canary and staged only: `{interval?, failureLimit?, inconclusiveLimit?, checks}`; "
        "default: the environment's",
    )
    gates: list[GateBody] | None = Field(
        default=None, description="gates of this deployment, on top of the environment's (`name` required)"
    )


class DeployBody(_Plan):
    server: str = Field(examples=["io.github.acme/weather"])
    version: str = Field(examples=["1.2.0"])


class PromoteBody(_Plan):
    from_: str = Field(alias="from", description="the environment whose stable version is promoted")
    to: str | None = Field(default=None, description="default: the next environment")
    force: bool | Omitted = Field(default=None, description="allow skipping environments (recorded)")


class NotesBody(Body):
    notes: str | None = Field(default=None, max_length=2000)


class RolloutPromoteBody(NotesBody):
    full: bool | Omitted = Field(default=None, description="to 100% at once, rather than one step")


class RollbackBody(NotesBody):
    version: str | None = Field(
        default=None, description="a version that was stable here before; default: the last known good"
    )


class DeploymentsQuery(Query):
    state: RequestState | None = None
    server: str | None = None
    limit: int = Field(default=100, ge=1, le=500)


class ResolveQuery(Query):
    client: str | None = Field(default=None, description="the client id (or the X-Client-Id header)")


ENV = "/api/environments/{env}"
TARGET = f"{ENV}/servers/{{namespace}}/{{server}}"
SERVER = "/api/servers/{namespace}/{server}"
ENV_CODES = ("environment_not_found", "invalid_environment_name", "environment_denied")
TARGET_CODES = (*ENV_CODES, "server_not_found", "namespace_denied")
_PLAN = ("validation_failed", "unknown_field", "invalid_strategy", "scheduled_in_past", "invalid_gate")
_APPLY = (
    "version_not_found",
    "invalid_version",
    "release_is_draft",
    "release_deleted",
    "release_not_active",
    "prerelease_not_allowed",
    "environment_protected",
    "already_deployed",
)
_ROLLOUT = (
    "no_rollout",
    "no_deployment",
    "rollout_not_active",
    "rollout_already_paused",
    "rollout_not_paused",
)
_NOTES = ("validation_failed", "unknown_field")


def _decision(action: str, summary: str) -> Operation:
    codes = ("deployment_not_found", "self_approval", "not_pending_approval", "not_cancellable")
    return Operation(
        "POST",
        f"{ENV}/deployments/{{id:int}}/{action}",
        summary,
        "deployments",
        answer=DeploymentAnswer,
        body=NotesBody,
        body_required=False,
        auth="required",
        codes=(*ENV_CODES, *_NOTES, *codes, *_APPLY, "namespace_denied"),
    )


def _rollout(action: str, summary: str) -> Operation:
    return Operation(
        "POST",
        f"{TARGET}/rollout/{action}",
        summary,
        "rollouts",
        answer=Target,
        body=RolloutPromoteBody if action == "promote" else NotesBody,
        body_required=False,
        auth="required",
        codes=(
            *TARGET_CODES,
            *_NOTES,
            *_ROLLOUT,
            "environment_protected",
            *(("gates_pending",) if action == "promote" else ()),
        ),
    )


OPERATIONS = (
    Operation(
        "POST",
        f"{ENV}/deployments",
        "Deploy a release: at once, as a canary, in steps, or at a time; may wait for approval",
        "deployments",
        answer=DeploymentAnswer,
        status=201,
        body=DeployBody,
        auth="required",
        codes=(*TARGET_CODES, *_PLAN, *_APPLY),
    ),
    Operation(
        "GET",
        f"{ENV}/deployments",
        "Deploy requests and their state (of the servers the token covers)",
        "deployments",
        answer=DeploymentList,
        query=DeploymentsQuery,
        auth="required",
        codes=(*ENV_CODES, "namespace_denied", "validation_failed"),
    ),
    Operation(
        "GET",
        f"{ENV}/deployments/{{id:int}}",
        "One deploy request, and what runs on its target now",
        "deployments",
        answer=DeploymentAnswer,
        auth="required",
        codes=(*ENV_CODES, "namespace_denied", "deployment_not_found"),
    ),
    _decision("approve", "Approve a waiting deployment (someone other than its requester)"),
    _decision("cancel", "Withdraw a waiting or scheduled deployment"),
    Operation(
        "GET",
        f"{TARGET}/rollout",
        "Stable, canary, weight, step, next step time, last known good",
        "rollouts",
        answer=Target,
        codes=TARGET_CODES,
    ),
    _rollout("promote", "Take the rollout's next step (or, with `full`, go to 100%)"),
    _rollout("pause", "Pause a timed step's countdown"),
    _rollout("resume", "Resume a paused countdown"),
    _rollout("abort", "Send the canary's weight to 0; the stable version keeps serving"),
    Operation(
        "POST",
        f"{TARGET}/rollback",
        "Back to the last known good version, or to one that was stable here before",
        "rollouts",
        answer=Target,
        body=RollbackBody,
        body_required=False,
        auth="required",
        codes=(
            *TARGET_CODES,
            *_NOTES,
            "no_rollback_target",
            "not_a_rollback_target",
            "no_deployment",
            *_APPLY,
        ),
    ),
    Operation(
        "GET",
        f"{TARGET}/resolve",
        "The release and configuration (secrets masked) one client gets; sticky per client",
        "rollouts",
        answer=Resolution,
        query=ResolveQuery,
        headers=(Header("X-Client-Id", "the client id, when `client` is not given"),),
        auth="required",
        codes=(*TARGET_CODES, "no_deployment"),
    ),
    Operation(
        "GET",
        f"{ENV}/servers",
        "Everything that runs in an environment, with its rollout",
        "rollouts",
        answer=TargetList,
        codes=ENV_CODES,
    ),
    Operation(
        "POST",
        f"{SERVER}/versions/{{version}}/promote",
        "Deploy to the next environment (or `to`) what runs in `from`",
        "deployments",
        answer=DeploymentAnswer,
        status=201,
        body=PromoteBody,
        auth="required",
        codes=(
            *ENV_CODES,
            *_PLAN,
            *_APPLY,
            "version_not_deployed",
            "no_next_environment",
            "promotion_not_forward",
            "promotion_skips_environment",
        ),
    ),
    Operation(
        "GET",
        f"{SERVER}/deployments",
        "Where a server runs: each environment's stable and canary",
        "rollouts",
        answer=ServerTargets,
    ),
)
