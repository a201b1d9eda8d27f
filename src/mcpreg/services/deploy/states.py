"""The per (server, environment) deployment state row: locking it, reading it, showing it.

Every change to what runs of a server in an environment starts by ``lock_state``:
``SELECT ... FOR UPDATE`` on PostgreSQL (SQLite write transactions are already
serialised by ``BEGIN IMMEDIATE``), so concurrent deploys, promotions, rollbacks and
scheduler steps on one target queue up and each sees the previous one's result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.tables import Release, Server
from mcpreg.domain.rollout import ACTIVE, RolloutState, Step, parse_steps
from mcpreg.errors import NoDeployment


@dataclass(frozen=True)
class Snapshot:
    """What ran before a change; events name the version a change replaced from it."""

    stable: str | None
    canary: str | None
    weight: float
    status: str = "empty"


def status_of(state: DeploymentState) -> str:
    """The rollout's status, else ``stable`` when something runs, else ``empty``."""
    return state.rollout_status or ("stable" if state.stable_version else "empty")


def snapshot(state: DeploymentState) -> Snapshot:
    return Snapshot(state.stable_version, state.canary_version, state.canary_weight, status_of(state))


def number(value: float) -> int | float:
    """A weight as JSON shows it best: ``25`` rather than ``25.0``."""
    return int(value) if float(value).is_integer() else value


def _query(server_id: int | None, environment_id: int | None) -> SelectOfScalar[DeploymentState]:
    return select(DeploymentState).where(
        DeploymentState.server_id == server_id, DeploymentState.environment_id == environment_id
    )


def find_state(session: Session, server: Server, env: Environment) -> DeploymentState | None:
    return session.exec(_query(server.id, env.id)).first()


def lock_state(session: Session, server: Server, env: Environment) -> DeploymentState:
    """The state row locked for this transaction, created when missing."""
    query = _query(server.id, env.id).with_for_update().execution_options(populate_existing=True)
    state: DeploymentState | None = session.exec(query).first()
    if state is not None:
        return state
    try:
        with session.begin_nested():
            session.add(
                DeploymentState(server_id=server.id, server_name=server.name, environment_id=env.id)  # type: ignore[arg-type]
            )
            session.flush()
    except sa.exc.IntegrityError:
        pass  # another transaction created it first; it has committed by the time we get here
    return session.exec(query).one()


def try_lock_state(session: Session, state_id: int) -> DeploymentState | None:
    """Lock an existing state row unless another transaction holds it (then None, no wait)."""
    query = (
        select(DeploymentState)
        .where(DeploymentState.id == state_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def require_state(session: Session, server: Server, env: Environment) -> DeploymentState:
    """The locked state row of a target where something is deployed, else ``no_deployment``."""
    state = lock_state(session, server, env)
    if state.stable_version is None and state.canary_version is None:
        raise NoDeployment(f"nothing of {server.name} is deployed in {env.name}", field="environment")
    return state


def is_rolling_out(state: DeploymentState) -> bool:
    return state.rollout_status in ACTIVE


def plan_text(steps: tuple[Step, ...]) -> str:
    return orjson.dumps([s.to_dict() for s in steps]).decode()


def plan_of(text: str | None) -> tuple[Step, ...]:
    return parse_steps(orjson.loads(text)) if text else ()


def rollout_of(state: DeploymentState) -> RolloutState | None:
    """The domain view of the state row's rollout, or None when there is none."""
    if state.rollout_status is None or state.rollout_plan is None or state.step_started_at is None:
        return None
    return RolloutState(
        steps=plan_of(state.rollout_plan),
        index=state.rollout_index,
        weight=state.canary_weight,
        status=state.rollout_status,  # type: ignore[arg-type]
        step_started_at=state.step_started_at,
        next_step_at=state.next_step_at,
        paused_remaining=state.paused_remaining,
    )


def store_rollout(
    state: DeploymentState, rollout: RolloutState, *, by: str | None = None, at: datetime | None = None
) -> None:
    """Write a rollout state back; a completed rollout makes the canary the stable version.

    ``by`` and ``at`` say who completed it and when (``deployedBy``, ``deployedAt``).
    """
    state.rollout_plan = plan_text(rollout.steps)
    state.rollout_index = rollout.index
    state.rollout_status = rollout.status
    state.step_started_at = rollout.step_started_at
    state.next_step_at = rollout.next_step_at
    state.paused_remaining = rollout.paused_remaining
    state.canary_weight = rollout.weight
    if rollout.status == "completed":
        state.stable_release_id, state.stable_version = state.canary_release_id, state.canary_version
        state.deployed_by = by or state.deployed_by
        state.deployed_at = at or rollout.step_started_at
        clear_canary(state)


def clear_canary(state: DeploymentState) -> None:
    state.canary_release_id = None
    state.canary_version = None
    state.canary_weight = 0.0
    state.next_step_at = None
    state.paused_remaining = None


def cancel_rollout(state: DeploymentState) -> None:
    """Forget the rollout and its canary: no step will run for it again."""
    state.rollout_analysis = None
    clear_canary(state)
    state.rollout_id = None
    state.rollout_strategy = None
    state.rollout_status = None
    state.rollout_plan = None
    state.rollout_index = 0
    state.step_started_at = None


def set_stable(state: DeploymentState, release: Release, actor: str, now: datetime) -> None:
    state.stable_release_id = release.id
    state.stable_version = release.version
    state.deployed_at = now
    state.deployed_by = actor


@dataclass(frozen=True)
class TargetInfo:
    """What runs of a server in one environment, and where its rollout stands."""

    server: str
    environment: str
    stable: str | None
    canary: str | None
    weight: float
    rollout_id: str | None
    strategy: str | None
    status: str
    rolling_out: bool
    step: int | None
    steps: list[dict[str, Any]]
    step_started_at: datetime | None
    next_step_at: datetime | None
    paused_remaining_seconds: float | None
    last_known_good: str | None
    deployed_at: datetime | None
    deployed_by: str | None
    revision: int

    @classmethod
    def of(cls, state: DeploymentState | None, env: Environment, server_name: str) -> TargetInfo:
        """The target's state row, or an empty target where nothing was ever deployed."""
        if state is None:
            state = DeploymentState(server_id=0, server_name=server_name, environment_id=env.id or 0)
        steps = plan_of(state.rollout_plan)
        return cls(
            server=server_name,
            environment=env.name,
            stable=state.stable_version,
            canary=state.canary_version,
            weight=number(state.canary_weight),
            rollout_id=state.rollout_id,
            strategy=state.rollout_strategy,
            status=status_of(state),
            rolling_out=is_rolling_out(state),
            step=state.rollout_index if steps else None,
            steps=[s.to_dict() for s in steps],
            step_started_at=state.step_started_at,
            next_step_at=state.next_step_at,
            paused_remaining_seconds=state.paused_remaining,
            last_known_good=state.last_known_good,
            deployed_at=state.deployed_at,
            deployed_by=state.deployed_by,
            revision=state.version,
        )


def states_in(session: Session, env: Environment) -> list[DeploymentState]:
    """Every target of ``env`` that runs something, by server name."""
    return list(
        session.exec(
            select(DeploymentState)
            .where(
                DeploymentState.environment_id == env.id,
                DeploymentState.stable_version.is_not(None),  # type: ignore[union-attr]
            )
            .order_by(DeploymentState.server_name)
        )
    )


def states_of(session: Session, server: Server) -> dict[int, DeploymentState]:
    """The state rows of one server, by environment id."""
    rows = session.exec(select(DeploymentState).where(DeploymentState.server_id == server.id))
    return {row.environment_id: row for row in rows}
