"""Letting through what passed: held deployments whose ``deploy`` gates all passed are
applied, and due rollout steps whose gates all passed are taken (``rollouts.catch_up``) at
once rather than at the scheduler's next pass.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select

from mcpreg.db.deploy_tables import Deployment, DeploymentState, Environment
from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import Server
from mcpreg.domain.gates import DEPLOY
from mcpreg.services.deploy.clock import apply_or_fail
from mcpreg.services.deploy.rollouts import catch_up
from mcpreg.services.deploy.states import lock_state, try_lock_state
from mcpreg.services.gates.runs import waits


def apply_held(engine: sa.Engine, now: datetime) -> int:
    """Apply each held deployment whose ``deploy`` gates all passed."""
    applied = 0
    with unit_of_work(engine) as session:
        held = [d.id for d in session.exec(select(Deployment).where(Deployment.state == "held")).all()]
    for deployment_id in held:
        with unit_of_work(engine, write=True) as session:
            found = session.get(Deployment, deployment_id)
            if found is None or found.state != "held" or waits(session, found, DEPLOY, 0):
                continue
            server, env = session.get(Server, found.server_id), session.get(Environment, found.environment_id)
            assert server is not None and env is not None
            state = lock_state(session, server, env)
            query = select(Deployment).where(Deployment.id == deployment_id).with_for_update()
            deployment = session.exec(query.execution_options(populate_existing=True)).one()
            if deployment.state != "held":
                continue  # cancelled, or applied by another replica
            applied += apply_or_fail(
                session, deployment, env, state, now, detail={"gates": "passed"}, gated=False
            )
    return applied


def take_steps(engine: sa.Engine, now: datetime) -> int:
    """Take each due step whose gates passed now, rather than at the scheduler's next pass."""
    taken = 0
    with unit_of_work(engine) as session:
        due = session.exec(
            select(DeploymentState.id).where(
                DeploymentState.rollout_status == "progressing",
                col(DeploymentState.next_step_at) <= now,
            )
        ).all()
    for state_id in due:
        assert state_id is not None
        with unit_of_work(engine, write=True) as session:
            state = try_lock_state(session, state_id)
            if state is None:
                continue
            env = session.get(Environment, state.environment_id)
            assert env is not None
            taken += catch_up(session, state, env, now)
    return taken
