"""Waiting deploy and promote requests: approve one (never your own) or cancel it.

A request that waits (``pending_approval``, ``scheduled``, or ``held`` by its gates) is
changed on its locked state row, state row first, as every deployment change is; an
approved request then applies at once (``deployments.apply``) or waits for its time.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from mcpreg.db.deploy_tables import Deployment, DeploymentState, Environment
from mcpreg.db.tables import Server
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.errors import Conflict, NotFound, PermissionDenied
from mcpreg.services.deploy.deployments import apply
from mcpreg.services.deploy.events import record_event
from mcpreg.services.deploy.states import lock_state, snapshot
from mcpreg.services.environments import get_environment, require_deploy


def _locked_request(
    session: Session, principal: Principal, env_name: str, deployment_id: int
) -> tuple[Environment, Deployment, DeploymentState]:
    env = get_environment(session, env_name)
    found = session.get(Deployment, deployment_id)
    if found is None or found.environment_id != env.id:
        raise NotFound(
            f"no deployment {deployment_id} in {env.name}", field="id", code="deployment_not_found"
        )
    require_deploy(principal, env, found.server_name)
    server = session.get(Server, found.server_id)
    assert server is not None
    state = lock_state(session, server, env)  # the state row first, always: one lock order
    query = select(Deployment).where(Deployment.id == deployment_id).with_for_update()
    deployment = session.exec(query.execution_options(populate_existing=True)).one()
    return env, deployment, state


def approve(
    session: Session,
    principal: Principal,
    env_name: str,
    deployment_id: int,
    *,
    notes: str | None = None,
    now: datetime | None = None,
) -> Deployment:
    """Approve a pending deployment (not your own); it then applies, or waits for its time."""
    now = now or utcnow()
    env, deployment, state = _locked_request(session, principal, env_name, deployment_id)
    if deployment.state != "pending_approval":
        raise Conflict(
            f"deployment {deployment_id} is {deployment.state}, not pending approval",
            code="not_pending_approval",
        )
    if deployment.requested_by == principal.name:
        raise PermissionDenied(
            "a deployment is approved by a principal other than its requester", code="self_approval"
        )
    deployment.approved_by, deployment.approved_at = principal.name, now
    deferred = deployment.scheduled_at is not None and deployment.scheduled_at > now
    if deferred:
        deployment.state = "scheduled"
    session.add(deployment)
    record_event(
        session,
        state,
        env,
        principal,
        "approve",
        snapshot(state),
        now,
        version=deployment.version,
        deployment=deployment,
        notes=notes,
    )
    if not deferred:
        apply(session, deployment, env, state, principal, now)
    return deployment


def cancel(
    session: Session,
    principal: Principal,
    env_name: str,
    deployment_id: int,
    *,
    notes: str | None = None,
    now: datetime | None = None,
) -> Deployment:
    """Withdraw a deployment still waiting for approval or for its time."""
    now = now or utcnow()
    env, deployment, state = _locked_request(session, principal, env_name, deployment_id)
    if deployment.state not in ("pending_approval", "scheduled", "held"):
        raise Conflict(f"deployment {deployment_id} is {deployment.state}", code="not_cancellable")
    deployment.state = "cancelled"
    session.add(deployment)
    record_event(
        session,
        state,
        env,
        principal,
        "cancel",
        snapshot(state),
        now,
        version=deployment.version,
        deployment=deployment,
        notes=notes,
    )
    return deployment
