"""The clock of deployments: timed rollout steps and scheduled deployments.

``tick(session, now)`` does whatever came due by ``now``. It is safe to run on every
replica at once: each due state row is claimed with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (SQLite serialises write transactions), and the claim re-checks the row,
so every step and every scheduled deployment happens exactly once. Rows a request
holds are skipped; that request takes the due steps itself (``rollouts.catch_up``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import Deployment, DeploymentState, Environment
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import SYSTEM
from mcpreg.domain.timestamps import rfc3339
from mcpreg.errors import RegistryError
from mcpreg.services.deploy.deployments import apply
from mcpreg.services.deploy.events import record_event
from mcpreg.services.deploy.rollouts import catch_up, step_can_move
from mcpreg.services.deploy.states import snapshot, try_lock_state


@dataclass(frozen=True)
class TickReport:
    steps: int = 0
    deployments: int = 0
    failed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.steps or self.deployments or self.failed)


def _due_rollouts(now: datetime) -> sa.Select[Any]:
    return sa.select(col(DeploymentState.id)).where(
        col(DeploymentState.rollout_status) == "progressing",
        col(DeploymentState.next_step_at) <= now,
    )


def _due_deployments(now: datetime) -> sa.Select[Any]:
    return sa.select(col(Deployment.id)).where(
        col(Deployment.state) == "scheduled",
        col(Deployment.scheduled_at) <= now,
    )


def _movable(session: Session, now: datetime) -> list[int]:
    """The due rollout rows whose step can move, read without a lock: a step held by its
    analysis or its gates waits, so it is neither locked nor written each tick."""
    states = session.exec(select(DeploymentState).where(col(DeploymentState.id).in_(_due_rollouts(now))))
    return [s.id for s in states if s.id is not None and step_can_move(session, s)]


def due(session: Session, now: datetime | None = None) -> bool:
    """Whether anything is due (a cheap read, so idle replicas never take a write lock)."""
    now = now or utcnow()
    return bool(_movable(session, now)) or session.execute(_due_deployments(now).limit(1)).first() is not None


def tick(session: Session, now: datetime | None = None) -> TickReport:
    """Take every due rollout step and start every due scheduled deployment."""
    now = now or utcnow()
    steps = deployments = failed = 0
    for state_id in _movable(session, now):
        state = try_lock_state(session, state_id)
        if state is None:
            continue  # a request or another replica holds it and catches it up
        env = session.get(Environment, state.environment_id)
        assert env is not None
        steps += catch_up(session, state, env, now)
    for deployment_id in list(session.execute(_due_deployments(now)).scalars()):
        outcome = _start(session, deployment_id, now)
        deployments += outcome == "applied"
        failed += outcome == "failed"
    return TickReport(steps, deployments, failed)


def _start(session: Session, deployment_id: int, now: datetime) -> str | None:
    found = session.get(Deployment, deployment_id)
    if found is None:
        return None
    state_id = session.exec(
        select(DeploymentState.id).where(
            DeploymentState.server_id == found.server_id,
            DeploymentState.environment_id == found.environment_id,
        )
    ).first()
    state = try_lock_state(session, state_id) if state_id is not None else None
    if state is None:
        return None
    query = select(Deployment).where(Deployment.id == deployment_id).with_for_update()
    deployment = session.exec(query.execution_options(populate_existing=True)).one()
    if deployment.state != "scheduled" or deployment.scheduled_at is None or deployment.scheduled_at > now:
        return None  # another replica started it, or it was cancelled
    env = session.get(Environment, deployment.environment_id)
    assert env is not None
    detail = {"scheduledAt": rfc3339(deployment.scheduled_at)}
    return "applied" if apply_or_fail(session, deployment, env, state, now, detail=detail) else "failed"


def apply_or_fail(
    session: Session,
    deployment: Deployment,
    env: Environment,
    state: DeploymentState,
    now: datetime,
    *,
    detail: dict[str, Any],
    gated: bool = True,
) -> bool:
    """Apply a deployment that came due (scheduled, or held by gates that passed) on its locked
    state row; one that no longer fits is marked ``failed`` with a ``fail`` event. Whether it
    was applied."""
    try:
        with session.begin_nested():
            apply(session, deployment, env, state, SYSTEM, now, detail=detail, gated=gated)
        return True
    except RegistryError as exc:
        session.refresh(state)
        session.refresh(deployment)
        deployment.state, deployment.failure = "failed", exc.code
        session.add(deployment)
        record_event(
            session,
            state,
            env,
            SYSTEM,
            "fail",
            snapshot(state),
            now,
            version=deployment.version,
            deployment=deployment,
            detail={"code": exc.code, "detail": exc.detail},
        )
        return False
