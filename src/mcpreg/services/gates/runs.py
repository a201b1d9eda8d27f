"""Gate runs: what each gate answered at each point, and what a deployment or step waits on.

A *check* is one gate at one point of one deployment: the ``deploy`` point (step 0), or the
rollout step about to be entered (``step``, or ``promote`` for the final 100% step). Its
latest attempt decides: ``pass`` lets it through; ``fail``/``error`` hold it until
``retry_at``, when the runner tries again; ``running`` is an attempt under way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import Deployment, DeploymentState, Environment
from mcpreg.db.gate_tables import GateRun, StoredGate
from mcpreg.domain.gates import DEPLOY, PASS, Gate, gate_from_dict, point_of
from mcpreg.domain.principal import Principal
from mcpreg.services.deploy.events import record_event
from mcpreg.services.deploy.states import plan_of, snapshot
from mcpreg.services.gates.store import applicable


@dataclass(frozen=True)
class Wait:
    """One gate a deployment or step waits on, and how its latest attempt went."""

    gate: str
    kind: str
    point: str
    step: int
    attempt: int  # 0: not tried yet
    result: str | None
    failure: str | None
    failing: tuple[str, ...]
    retry_at: datetime | None


def gates_at(rows: list[StoredGate], point: str) -> list[tuple[StoredGate, Gate]]:
    pairs = [(row, gate_from_dict(orjson.loads(row.spec))) for row in rows]
    return [(row, gate) for row, gate in pairs if gate.applies_at(point)]


def latest_runs(session: Session, deployment_id: int, point: str, step: int) -> dict[str, GateRun]:
    """The latest attempt of each gate of one check, by gate name."""
    runs = session.exec(
        select(GateRun)
        .where(GateRun.deployment_id == deployment_id, GateRun.point == point, GateRun.step == step)
        .order_by(col(GateRun.attempt))
    ).all()
    return {run.gate_name: run for run in runs}


def waits(session: Session, deployment: Deployment, point: str, step: int) -> list[Wait]:
    """Every gate of ``deployment`` at ``point``/``step`` without a passing run, in name order."""
    assert deployment.id is not None
    latest = latest_runs(session, deployment.id, point, step)
    found: list[Wait] = []
    for _row, gate in gates_at(applicable(session, deployment), point):
        run = latest.get(gate.name)
        if run is not None and run.result == PASS:
            continue
        found.append(
            Wait(
                gate=gate.name,
                kind=gate.kind,
                point=point,
                step=step,
                attempt=run.attempt if run else 0,
                result=run.result if run else None,
                failure=run.failure if run else None,
                failing=tuple(orjson.loads(run.failing)) if run and run.failing else (),
                retry_at=run.retry_at if run else None,
            )
        )
    return found


def rollout_deployment(session: Session, state: DeploymentState) -> Deployment | None:
    """The applied deployment that started the state's rollout."""
    if state.rollout_id is None:
        return None
    return session.exec(
        select(Deployment).where(
            Deployment.environment_id == state.environment_id,
            Deployment.rollout_id == state.rollout_id,
            Deployment.state == "applied",
        )
    ).first()


def step_waits(session: Session, state: DeploymentState, target: int) -> list[Wait]:
    """What entering step ``target`` of the state's rollout waits on ([] for nothing)."""
    deployment = rollout_deployment(session, state)
    steps = plan_of(state.rollout_plan)
    if deployment is None or not 0 <= target < len(steps):
        return []
    return waits(session, deployment, point_of([s.weight for s in steps], target), target)


def step_gates_passed(session: Session, state: DeploymentState) -> bool:
    """Whether every gate of the rollout's next step has passed (True without gates)."""
    return not step_waits(session, state, state.rollout_index + 1)


def has_gates(session: Session, state: DeploymentState) -> bool:
    """Whether the state's rollout answers to any gate at a step or at its promotion."""
    deployment = rollout_deployment(session, state)
    if deployment is None:
        return False
    rows = applicable(session, deployment)
    return bool(gates_at(rows, "step") or gates_at(rows, "promote"))


def deploy_waits(session: Session, deployment: Deployment) -> list[Wait]:
    return waits(session, deployment, DEPLOY, 0)


def runs_of(session: Session, environment_id: int, server_name: str, limit: int = 200) -> list[GateRun]:
    """The gate runs of one server in one environment, newest first."""
    return list(
        session.exec(
            select(GateRun)
            .where(GateRun.environment_id == environment_id, GateRun.server_name == server_name)
            .order_by(col(GateRun.id).desc())
            .limit(limit)
        ).all()
    )


def hold(
    session: Session,
    deployment: Deployment,
    env: Environment,
    state: DeploymentState,
    actor: Principal | str,
    now: datetime,
) -> bool:
    """Keep a deployment that is about to be applied ``held`` while any of its ``deploy``
    gates has not passed; True when it is held (the gate runner applies it once they pass)."""
    pending = deploy_waits(session, deployment)
    if not pending:
        return False
    deployment.state = "held"
    session.add(deployment)
    record_event(
        session,
        state,
        env,
        actor,
        "gate",
        snapshot(state),
        now,
        version=deployment.version,
        deployment=deployment,
        detail={"point": DEPLOY, "step": 0, "held": [w.gate for w in pending]},
    )
    return True
