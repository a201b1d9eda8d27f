"""Which gate checks are due: a held deployment's ``deploy`` gates, and the next step's gates
of a rollout whose timed step came due or that waits at a manual step (so a promote finds
them passed). A gate is due with no attempt yet, or when its latest failed and its
``retry_at`` came; an attempt left ``running`` longer than its timeout (a test set's: the
longest a set can run) plus ``STALE_AFTER`` by a replica that died is given up, and the
next goes ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import Deployment, DeploymentState
from mcpreg.db.gate_tables import GateRun, StoredGate
from mcpreg.domain import testsets
from mcpreg.domain.gates import DEPLOY, PASS, RUNNING, WEBHOOK, Gate, point_of
from mcpreg.domain.timestamps import rfc3339
from mcpreg.services.deploy.states import plan_of
from mcpreg.services.gates.runs import gates_at, latest_runs, rollout_deployment
from mcpreg.services.gates.store import applicable

STALE_AFTER = 30.0  # seconds past its timeout before a ``running`` attempt is given up
# A test set runs at most its timeout per case (``services.testsets.gate``): never given up sooner.
TESTSET_LONGEST = testsets.MAX_CASES * testsets.MAX_TIMEOUT + 1.0
EVENT = "gate"  # webhook event name, and the history action of a held or passed check


@dataclass(frozen=True)
class Check:
    """One gate at one point of one deployment, due for attempt number ``attempt``."""

    gate_id: int
    gate: Gate
    deployment_id: int
    rollout_id: str | None
    environment_id: int
    environment: str
    server: str
    version: str
    point: str
    step: int
    attempt: int
    payload: dict[str, Any]
    stale_run_id: int | None = None


def pending(session: Session) -> bool:
    """Whether any gate is declared at all (a cheap read: most registries have none)."""
    return session.exec(select(StoredGate.id).limit(1)).first() is not None


def _due(gate: Gate, latest: dict[str, GateRun], now: datetime) -> tuple[int, int | None] | None:
    """The attempt due for ``gate`` (and a stale run to give up), or None."""
    run = latest.get(gate.name)
    if run is None:
        return 1, None
    if run.result == PASS:
        return None
    if run.result == RUNNING:
        longest = gate.timeout if gate.kind == WEBHOOK else TESTSET_LONGEST
        if run.started_at + timedelta(seconds=longest + STALE_AFTER) <= now:
            return run.attempt + 1, run.id
        return None
    if run.retry_at is None or run.retry_at <= now:
        return run.attempt + 1, None
    return None


def _checks_for(
    session: Session, deployment: Deployment, point: str, step: int, payload: dict[str, Any], now: datetime
) -> list[Check]:
    assert deployment.id is not None
    latest = latest_runs(session, deployment.id, point, step)
    found: list[Check] = []
    for row, gate in gates_at(applicable(session, deployment), point):
        due = _due(gate, latest, now)
        if due is None:
            continue
        assert row.id is not None
        attempt, stale = due
        found.append(
            Check(
                gate_id=row.id,
                gate=gate,
                deployment_id=deployment.id,
                rollout_id=deployment.rollout_id,
                environment_id=deployment.environment_id,
                environment=deployment.environment,
                server=deployment.server_name,
                version=deployment.version,
                point=point,
                step=step,
                attempt=attempt,
                payload={**payload, "gate": gate.name, "attempt": attempt, "timestamp": rfc3339(now)},
                stale_run_id=stale,
            )
        )
    return found


def _state_of(session: Session, deployment: Deployment) -> DeploymentState | None:
    return session.exec(
        select(DeploymentState).where(
            DeploymentState.server_id == deployment.server_id,
            DeploymentState.environment_id == deployment.environment_id,
        )
    ).first()


def _payload(
    deployment: Deployment, state: DeploymentState | None, point: str, step: int, weight: float
) -> dict[str, Any]:
    return {
        "event": EVENT,
        "server": deployment.server_name,
        "environment": deployment.environment,
        "version": deployment.version,
        "stable": state.stable_version if state else None,
        "canary": state.canary_version if state else None,
        "weight": weight,
        "currentWeight": state.canary_weight if state else 0.0,
        "step": step,
        "point": point,
        "rolloutId": deployment.rollout_id,
        "deploymentId": deployment.id,
    }


def _step_targets(state: DeploymentState, now: datetime) -> list[int]:
    steps = plan_of(state.rollout_plan)
    following = state.rollout_index + 1
    if following >= len(steps):
        return []
    if state.rollout_status == "progressing" and state.next_step_at is not None and state.next_step_at <= now:
        return [following]
    if state.rollout_status == "paused_manual":
        return sorted({following, len(steps) - 1})
    return []


def due_checks(session: Session, now: datetime) -> list[Check]:
    """Every check due at ``now``: held deployments first, then rollout steps."""
    checks: list[Check] = []
    held = session.exec(
        select(Deployment).where(Deployment.state == "held").order_by(col(Deployment.id))
    ).all()
    for deployment in held:
        steps = plan_of(deployment.plan)
        weight = steps[0].weight if steps and deployment.strategy != "immediate" else 100.0
        payload = _payload(deployment, _state_of(session, deployment), DEPLOY, 0, weight)
        checks += _checks_for(session, deployment, DEPLOY, 0, payload, now)
    states = session.exec(
        select(DeploymentState).where(
            col(DeploymentState.rollout_status).in_(("progressing", "paused_manual"))
        )
    ).all()
    for state in states:
        targets = _step_targets(state, now)
        found = rollout_deployment(session, state) if targets else None
        if found is None:
            continue
        steps = plan_of(state.rollout_plan)
        weights = [s.weight for s in steps]
        for target in targets:
            point = point_of(weights, target)
            payload = _payload(found, state, point, target, weights[target])
            checks += _checks_for(session, found, point, target, payload, now)
    return checks
