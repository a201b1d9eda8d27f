"""What ran in every environment at a chosen moment, and each target's last change.

Both are read from the deployment history (``deployment_event``), whose events carry
the state each change left (``mcpreg.domain.point_in_time`` is the rule). One query
picks each target's last event at or before the moment (the highest ``seq``); the
caller's visibility then keeps only the servers and environments it may read, as the
history endpoints do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import DeploymentEvent, DeploymentState, Environment
from mcpreg.domain.point_in_time import Change, Running, running_after
from mcpreg.services.deploy.events import summary
from mcpreg.services.environments import list_environments
from mcpreg.services.visibility import Visible


@dataclass(frozen=True)
class EnvironmentAt:
    """One environment at the moment: its name, whether it is protected, what ran there."""

    name: str
    protected: bool
    running: list[Running]


def change_of(event: DeploymentEvent) -> Change:
    """The domain's view of one history event, its one-line summary included."""
    detail = orjson.loads(event.detail) if event.detail else None
    return Change(
        server=event.server_name,
        environment=event.environment,
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        action=event.action,
        stable=event.stable_version,
        canary=event.canary_version,
        weight=event.canary_weight,
        summary=summary(event, detail),
    )


def _last_events(session: Session, moment: datetime) -> list[DeploymentEvent]:
    """Each target's last event at or before ``moment``."""
    server, environment, seq = (
        col(DeploymentEvent.server_id),
        col(DeploymentEvent.environment_id),
        col(DeploymentEvent.seq),
    )
    last = (
        sa.select(server, environment, sa.func.max(seq).label("seq"))
        .where(col(DeploymentEvent.at) <= moment)
        .group_by(server, environment)
        .subquery()
    )
    query = select(DeploymentEvent).join(
        last,
        sa.and_(server == last.c.server_id, environment == last.c.environment_id, seq == last.c.seq),
    )
    return list(session.exec(query))


def running_at(
    session: Session,
    moment: datetime,
    *,
    visible: Visible | None = None,
    environment_visible: Callable[[str], bool] | None = None,
) -> list[EnvironmentAt]:
    """What ran at ``moment`` in every environment (promotion order), by server name.

    ``visible`` keeps the servers, ``environment_visible`` the environments, the caller
    may read; an environment is listed even when nothing ran there.
    """
    found: dict[str, list[Running]] = {}
    for event in _last_events(session, moment):
        if visible is not None and not visible(event.server_name):
            continue
        running = running_after(change_of(event))
        if running is not None:
            found.setdefault(running.environment, []).append(running)
    return [
        EnvironmentAt(env.name, env.protected, sorted(found.get(env.name, []), key=lambda r: r.server))
        for env in list_environments(session)
        if environment_visible is None or environment_visible(env.name)
    ]


def last_changes(session: Session, env: Environment) -> dict[str, Change]:
    """The last change of every target in ``env``, by server name.

    A state row's ``version`` is the ``seq`` of its last event (``deploy_history``).
    """
    query = select(DeploymentEvent).join(
        DeploymentState,
        sa.and_(
            col(DeploymentEvent.server_id) == col(DeploymentState.server_id),
            col(DeploymentEvent.environment_id) == col(DeploymentState.environment_id),
            col(DeploymentEvent.seq) == col(DeploymentState.version),
        ),
    )
    rows = session.exec(query.where(DeploymentState.environment_id == env.id))
    return {event.server_name: change_of(event) for event in rows}
