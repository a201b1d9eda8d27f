"""Deploy and promote requests: checked, then applied, held for approval, or scheduled.

A request names a release and a strategy (``immediate``, ``canary`` with a
``weight``, ``staged`` with ``steps``). In an environment that requires approval it
waits as ``pending_approval`` until a different principal approves it (``approvals``); with a future
``scheduled_at`` it waits as ``scheduled`` for the scheduler. ``apply`` is where every
path ends: it runs on the locked state row and records the event.

The first release deployed to an environment has nothing to canary against, so a
``canary`` or ``staged`` request there goes straight to stable (as Argo Rollouts
does); the event shows ``strategy: immediate`` and the requested one in its detail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlmodel import Session, select

from mcpreg.db.deploy_tables import Deployment, DeploymentState, Environment
from mcpreg.db.tables import Release
from mcpreg.db.types import utcnow
from mcpreg.domain import rollout as machine
from mcpreg.domain.deploy_requests import DeployRequest, Plan, PromoteRequest, check_scheduled_at
from mcpreg.domain.principal import Principal
from mcpreg.domain.timestamps import rfc3339
from mcpreg.errors import Conflict, NoDeployment, NotFound
from mcpreg.services.deploy.events import record_event
from mcpreg.services.deploy.states import (
    cancel_rollout,
    find_state,
    is_rolling_out,
    lock_state,
    plan_of,
    plan_text,
    set_stable,
    snapshot,
    store_rollout,
)
from mcpreg.services.environments import (
    between,
    check_deployable,
    get_environment,
    next_environment,
    require_deploy,
)
from mcpreg.services.gates import runs as gate_runs
from mcpreg.services.gates.store import store_request_gates
from mcpreg.services.releases import get_release, get_server
from mcpreg.services.visibility import Visible, newest_visible

STATES = ("pending_approval", "scheduled", "held", "applied", "cancelled", "failed")
"""``held``: waiting for its ``deploy`` gates to pass (``services.gates``)."""


@dataclass(frozen=True)
class Promotion:
    """Where a promotion comes from and whether it skips environments on its way."""

    source: Environment
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class DeploymentInfo:
    """A deploy or promotion request and its state (``weight``: a canary's, ``steps``: a
    staged plan's)."""

    id: int
    kind: str
    server: str
    environment: str
    version: str
    strategy: str
    weight: float | None
    steps: list[dict[str, Any]] | None
    notes: str | None
    from_: str | None
    forced: bool
    state: str
    requested_by: str
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    scheduled_at: datetime | None
    applied_at: datetime | None
    rollout_id: str | None
    failure: str | None

    @classmethod
    def of(cls, d: Deployment) -> DeploymentInfo:
        steps = plan_of(d.plan)
        return cls(
            id=d.id or 0,
            kind=d.kind,
            server=d.server_name,
            environment=d.environment,
            version=d.version,
            strategy=d.strategy,
            weight=steps[0].to_dict()["weight"] if d.strategy == "canary" and steps else None,
            steps=[s.to_dict() for s in steps] if d.strategy == "staged" else None,
            notes=d.notes,
            from_=d.from_environment,
            forced=d.forced,
            state=d.state,
            requested_by=d.requested_by,
            requested_at=d.requested_at,
            approved_by=d.approved_by,
            approved_at=d.approved_at,
            scheduled_at=d.scheduled_at,
            applied_at=d.applied_at,
            rollout_id=d.rollout_id,
            failure=d.failure,
        )


def deploy(
    session: Session,
    principal: Principal,
    env_name: str,
    request: DeployRequest,
    *,
    now: datetime | None = None,
) -> Deployment:
    """Deploy ``request.version`` of ``request.server`` to an environment."""
    env = get_environment(session, env_name)
    return _submit(session, principal, env, request, request.server, request.version, None, now or utcnow())


def promote(
    session: Session,
    principal: Principal,
    server_name: str,
    version: str,
    request: PromoteRequest,
    *,
    now: datetime | None = None,
) -> Deployment:
    """Deploy to ``request.target`` (default: the next environment) what runs in ``request.source``."""
    source = get_environment(session, request.source, field="from")
    if request.target is None:
        target = next_environment(session, source)
        if target is None:
            raise Conflict(f"{source.name!r} is the last environment", field="to", code="no_next_environment")
    else:
        target = get_environment(session, request.target, field="to")
    if target.position <= source.position:
        raise Conflict(
            f"promotion goes forward: {target.name!r} does not come after {source.name!r}",
            field="to",
            code="promotion_not_forward",
        )
    skipped = tuple(e.name for e in between(session, source, target))
    if skipped and not request.force:
        raise Conflict(
            f"promoting from {source.name!r} to {target.name!r} skips {', '.join(skipped)}; "
            "send force: true to do it anyway",
            field="force",
            code="promotion_skips_environment",
            extra={"skipped": list(skipped)},
        )
    server = get_server(session, server_name)
    state = find_state(session, server, source)
    if state is None or state.stable_version is None:
        raise NoDeployment(f"nothing of {server.name} is deployed in {source.name}", field="from")
    release = get_release(session, server, version)
    if state.stable_release_id != release.id:
        raise Conflict(
            f"{server.name}@{release.version} is not what runs in {source.name} ({state.stable_version})",
            field="version",
            code="version_not_deployed",
        )
    promotion = Promotion(source, skipped)
    return _submit(
        session, principal, target, request, server.name, release.version, promotion, now or utcnow()
    )


def _submit(
    session: Session,
    principal: Principal,
    env: Environment,
    request: Plan,
    server_name: str,
    version: str,
    promotion: Promotion | None,
    now: datetime,
) -> Deployment:
    check_scheduled_at(request.scheduled_at, now, request.scheduled_field)
    server = get_server(session, server_name)
    require_deploy(principal, env, server.name)
    release = get_release(session, server, version)
    check_deployable(release, env)
    state = lock_state(session, server, env)
    deployment = Deployment(
        kind="promotion" if promotion else "deploy",
        server_id=server.id,  # type: ignore[arg-type]
        server_name=server.name,
        environment_id=env.id,  # type: ignore[arg-type]
        environment=env.name,
        release_id=release.id,  # type: ignore[arg-type]
        version=release.version,
        strategy=request.strategy,
        plan=plan_text(request.steps) if request.steps else None,
        analysis=orjson.dumps(request.analysis.to_dict()).decode() if request.analysis else None,
        notes=request.notes,
        from_environment=promotion.source.name if promotion else None,
        forced=bool(promotion and promotion.skipped),
        state="applied",
        requested_by=principal.name,
        requested_at=now,
        scheduled_at=request.scheduled_at,
    )
    deferred = request.scheduled_at is not None and request.scheduled_at > now
    detail: dict[str, Any] | None = (
        {"skipped": list(promotion.skipped)} if promotion and promotion.skipped else None
    )
    if env.requires_approval:
        deployment.state = "pending_approval"
    elif deferred:
        deployment.state = "scheduled"
    session.add(deployment)
    session.flush()
    store_request_gates(session, deployment, request.gates)
    if deployment.state == "applied":
        apply(session, deployment, env, state, principal, now, detail=detail)
    else:
        action = "request" if deployment.state == "pending_approval" else "schedule"
        if deployment.scheduled_at is not None:
            detail = {**(detail or {}), "scheduledAt": rfc3339(deployment.scheduled_at)}
        record_event(
            session,
            state,
            env,
            principal,
            action,
            snapshot(state),
            now,
            version=release.version,
            deployment=deployment,
            detail=detail,
        )
    return deployment


def apply(
    session: Session,
    deployment: Deployment,
    env: Environment,
    state: DeploymentState,
    actor: Principal | str,
    now: datetime,
    *,
    detail: dict[str, Any] | None = None,
    gated: bool = True,
) -> None:
    """Make a deployment happen on its locked state row; refuse one that no longer fits.
    One with ``deploy`` gates not yet passed is kept ``held`` instead (unless not ``gated``)."""
    if gated and gate_runs.hold(session, deployment, env, state, actor, now):
        return
    release = session.get(Release, deployment.release_id)
    assert release is not None
    check_deployable(release, env)
    before = snapshot(state)
    rolling = is_rolling_out(state)
    detail = dict(detail or {})
    if rolling:
        detail["cancelledRollout"] = state.rollout_id
    strategy = deployment.strategy
    if strategy != "immediate" and state.stable_release_id is None:
        detail["requestedStrategy"], strategy = strategy, "immediate"
    if release.id == state.stable_release_id and (strategy != "immediate" or not rolling):
        raise Conflict(
            f"{release.server_name}@{release.version} is already the stable version in {env.name}",
            field="version",
            code="already_deployed",
        )
    if rolling:
        detail["canary"] = before.canary
    # Who made it stable: whoever asked for it, even when an approver or the scheduler applies it.
    asked_by = deployment.requested_by
    cancel_rollout(state)
    if strategy == "immediate":
        set_stable(state, release, asked_by, now)
    else:
        state.rollout_id = uuid.uuid4().hex
        state.rollout_strategy = strategy
        state.rollout_analysis = deployment.analysis or env.analysis  # asked for, else the default
        state.canary_release_id, state.canary_version = release.id, release.version
        store_rollout(state, machine.start(plan_of(deployment.plan), now), by=asked_by, at=now)
        if state.stable_release_id == release.id:  # a single 100% step completes at once
            set_stable(state, release, asked_by, now)
        deployment.rollout_id = state.rollout_id
    deployment.state, deployment.applied_at = "applied", now
    session.add(deployment)
    record_event(
        session,
        state,
        env,
        actor,
        "promote" if deployment.kind == "promotion" else "deploy",
        before,
        now,
        version=release.version,
        strategy=strategy,
        deployment=deployment,
        detail=detail or None,
    )


def get_deployment(session: Session, env_name: str, deployment_id: int) -> Deployment:
    env = get_environment(session, env_name)
    found = session.get(Deployment, deployment_id)
    if found is None or found.environment_id != env.id:
        raise NotFound(
            f"no deployment {deployment_id} in {env.name}", field="id", code="deployment_not_found"
        )
    return found


def list_deployments(
    session: Session,
    env_name: str,
    *,
    state: str | None = None,
    server: str | None = None,
    limit: int = 100,
    visible: Visible | None = None,
) -> list[Deployment]:
    """An environment's deployment requests, newest first; ``visible`` filters by server."""
    env = get_environment(session, env_name)
    query = select(Deployment).where(Deployment.environment_id == env.id)
    if state is not None:
        query = query.where(Deployment.state == state)
    if server is not None:
        query = query.where(Deployment.server_name == server)
    return newest_visible(session, query, Deployment.id, visible, limit)
