"""Rollouts in motion: timed steps, promote, pause, resume, abort, and rollback.

The state machine itself is pure (``mcpreg.domain.rollout``); this module applies it
to a locked state row and records one event per step, so a rollout that crossed
three timed pauses since it was last looked at leaves three ``step`` events.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from mcpreg.db.deploy_tables import Deployment, DeploymentState, Environment
from mcpreg.db.tables import Release
from mcpreg.db.types import utcnow
from mcpreg.domain import rollout as machine
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.domain.timestamps import rfc3339
from mcpreg.errors import Conflict, NotARollbackTarget
from mcpreg.services.analysis_runs import step_passed
from mcpreg.services.deploy.events import last_known_good, record_event, was_stable
from mcpreg.services.deploy.states import (
    cancel_rollout,
    is_rolling_out,
    require_state,
    rollout_of,
    set_stable,
    snapshot,
    store_rollout,
)
from mcpreg.services.environments import check_deployable, get_environment, require_deploy
from mcpreg.services.gates.runs import has_gates, step_gates_passed, step_waits
from mcpreg.services.releases import get_release, get_server

TRANSITIONS = ("promote", "pause", "resume", "abort")


def _step_action(rollout: machine.RolloutState) -> str:
    return "complete" if rollout.status == "completed" else "step"


def rollout_owner(session: Session, state: DeploymentState) -> str | None:
    """Who asked for the rollout running on ``state``: its timed completion is theirs."""
    if state.rollout_id is None:
        return None
    query = select(Deployment.requested_by).where(
        Deployment.environment_id == state.environment_id,
        Deployment.state == "applied",
        Deployment.rollout_id == state.rollout_id,
    )
    return session.exec(query.limit(1)).first()


def step_can_move(session: Session, state: DeploymentState) -> bool:
    """Whether the rollout's due step may be taken now: its analysis checks (if it has an
    analysis) and its gates (if any) passed. A read: the scheduler asks it before locking."""
    analysed = state.rollout_analysis is None or step_passed(session, state)
    return analysed and step_gates_passed(session, state)


def catch_up(
    session: Session, state: DeploymentState, env: Environment, now: datetime, actor: Principal | str = SYSTEM
) -> int:
    """Take every timed step that came due by ``now``, one event each; return how many.

    A rollout with a canary analysis takes at most one step, and only once the latest
    interval of every check of its step passed; it then steps at ``now`` (not when the
    step came due), so the next step's intervals start with it. A rollout with gates
    likewise takes one step at a time, once every gate of that step passed.
    """
    current = rollout_of(state)
    taken = 0
    gated = state.rollout_analysis is not None or has_gates(session, state)
    while (
        current is not None
        and current.status == "progressing"
        and current.next_step_at is not None
        and current.next_step_at <= now
        and not (gated and (taken or not step_can_move(session, state)))
    ):
        due = now if gated else current.next_step_at
        before = snapshot(state)
        canary = state.canary_version
        # An analysed step is taken when its checks passed, which may be after it came due.
        current = machine.tick(replace(current, next_step_at=due) if gated else current, due)
        owner = rollout_owner(session, state) if current.status == "completed" else None
        store_rollout(state, current, by=owner, at=due)
        record_event(
            session,
            state,
            env,
            actor,
            _step_action(current),
            before,
            now,
            version=canary,
            strategy=state.rollout_strategy,
            detail={"step": current.index, "dueAt": rfc3339(due)},
        )
        taken += 1
    return taken


def transition(
    session: Session,
    principal: Principal,
    server_name: str,
    env_name: str,
    action: str,
    *,
    full: bool = False,
    notes: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DeploymentState:
    """Promote (one step, or to 100% with ``full``), pause, resume or abort a rollout
    (``detail``: what led to it, e.g. the analysis numbers, kept on the history event)."""
    now = now or utcnow()
    env = get_environment(session, env_name)
    server = get_server(session, server_name)
    require_deploy(principal, env, server.name)
    state = require_state(session, server, env)
    catch_up(session, state, env, now)
    current = rollout_of(state)
    if current is None:
        raise Conflict(f"{server.name} has no rollout in {env.name}", code="no_rollout")
    if current.status == "progressing" and current.next_step_at is not None and current.next_step_at <= now:
        # Still due after catching up: held by its analysis or gates. The machine would tick
        # through it; for this transition the step comes due only just after ``now``.
        current = replace(current, next_step_at=now + timedelta(microseconds=1))
    before = snapshot(state)
    canary = state.canary_version
    if action == "promote":
        if current.active:
            _require_gates(session, state, len(current.steps) - 1 if full else current.index + 1)
        moved = machine.promote(current, now, full=full)
    elif action == "pause":
        moved = machine.pause(current, now)
    elif action == "resume":
        moved = machine.resume(current, now)
    elif action == "abort":
        moved = machine.abort(current, now)
    else:
        raise ValueError(action)
    store_rollout(state, moved, by=principal.name, at=now)
    event_action = _step_action(moved) if action == "promote" else action
    record_event(
        session,
        state,
        env,
        principal,
        event_action,
        before,
        now,
        version=canary,
        strategy=state.rollout_strategy,
        notes=notes,
        replaced=canary if action == "abort" else None,
        detail={"step": moved.index, "full": full} if action == "promote" else detail,
    )
    return state


def _require_gates(session: Session, state: DeploymentState, target: int) -> None:
    """Refuse a promote to step ``target`` while its gates have not all passed."""
    waiting = step_waits(session, state, target)
    if waiting:
        names = ", ".join(w.gate for w in waiting)
        raise Conflict(
            f"step {target} waits on its gates: {names}; the gate runner retries them",
            code="gates_pending",
            extra={"waitingOn": [w.gate for w in waiting]},
        )


def rollback(
    session: Session,
    principal: Principal,
    server_name: str,
    env_name: str,
    *,
    version: str | None = None,
    notes: str | None = None,
    now: datetime | None = None,
) -> DeploymentState:
    """Serve ``version`` (default: the last known good) as stable, in one transaction.

    Any rollout is cancelled in the same transaction, so no step runs on top of it.
    Without a version, a rollout in progress is undone by dropping its canary (the
    stable version was the last known good); otherwise the previous good stable returns.
    Rollback does not wait for approval: it is the emergency exit. So a named
    ``version`` must have been the stable version of this server in this environment
    before (its history says so); any other version is a deploy and follows the deploy
    rules, and is refused here with ``not_a_rollback_target``.
    """
    now = now or utcnow()
    env = get_environment(session, env_name)
    server = get_server(session, server_name)
    require_deploy(principal, env, server.name)
    state = require_state(session, server, env)
    rolling = is_rolling_out(state) and state.canary_version is not None
    target: Release | None = None
    if version is not None:
        target = get_release(session, server, version)
    elif rolling:
        target = session.get(Release, state.stable_release_id) if state.stable_release_id else None
    elif (good := last_known_good(session, state)) is not None:
        target = get_release(session, server, good)
    if target is None:
        raise Conflict(
            f"{server.name} has no earlier good version in {env.name}; name one with version",
            field="version",
            code="no_rollback_target",
        )
    check_deployable(target, env, allow_deprecated=True)
    if target.id == state.stable_release_id and not rolling:
        raise Conflict(
            f"{server.name}@{target.version} is already the stable version in {env.name}",
            field="version",
            code="already_deployed",
        )
    if target.id != state.stable_release_id and not was_stable(session, state, target.version):
        raise NotARollbackTarget(
            f"{server.name}@{target.version} was never the stable version in {env.name}, so it is not "
            "a rollback target; deploy it instead (approval, protection and the pre-release rule apply)",
            field="version",
        )
    before = snapshot(state)
    cancelled = state.rollout_id if rolling else None
    replaced = before.canary if target.id == state.stable_release_id else before.stable
    cancel_rollout(state)
    set_stable(state, target, principal.name, now)
    record_event(
        session,
        state,
        env,
        principal,
        "rollback",
        before,
        now,
        version=target.version,
        notes=notes,
        replaced=replaced,
        detail={"cancelledRollout": cancelled, "canary": before.canary} if cancelled else None,
    )
    return state
