"""What a target's gates did and what it waits on: for ``GET .../gates`` and ``rollout status``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import Deployment
from mcpreg.db.gate_tables import GateRun
from mcpreg.domain.principal import Principal
from mcpreg.services.deploy.states import find_state
from mcpreg.services.environments import get_environment
from mcpreg.services.gates.runs import Wait, deploy_waits, rollout_deployment, runs_of, step_waits
from mcpreg.services.gates.store import DeclaredGate, applicable, declared, gate_rows
from mcpreg.services.releases import get_server
from mcpreg.services.tokens import require


@dataclass(frozen=True)
class TargetGates:
    server: str
    environment: str
    rollout_id: str | None
    held_deployment: int | None
    gates: list[DeclaredGate]  # what the held deployment, else the rollout, answers to
    waiting_on: list[Wait]
    runs: list[GateRun]


def report(session: Session, principal: Principal, env_name: str, server_name: str) -> TargetGates:
    env = get_environment(session, env_name)
    server = get_server(session, server_name)
    require(principal, "read", server=server.name, environment=env.name)
    assert env.id is not None
    held = session.exec(
        select(Deployment)
        .where(
            Deployment.environment_id == env.id,
            Deployment.server_id == server.id,
            Deployment.state == "held",
        )
        .order_by(col(Deployment.id).desc())
    ).first()
    waiting: list[Wait] = deploy_waits(session, held) if held is not None else []
    state = find_state(session, server, env)
    rollout_id = state.rollout_id if state is not None else None
    rolling = state is not None and state.rollout_status in ("progressing", "paused_manual", "paused")
    if state is not None and rolling:
        waiting += step_waits(session, state, state.rollout_index + 1)
    subject = held or (rollout_deployment(session, state) if state is not None and rolling else None)
    rows = applicable(session, subject) if subject is not None else gate_rows(session, env.id)
    return TargetGates(
        server=server.name,
        environment=env.name,
        rollout_id=rollout_id,
        held_deployment=held.id if held is not None else None,
        gates=[declared(row, env.name) for row in rows],
        waiting_on=waiting,
        runs=runs_of(session, env.id, server.name),
    )
