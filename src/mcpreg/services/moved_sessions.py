"""How many legacy gateway sessions a change of routing moved, per deployment-history entry.

The gateway seals a session's version into its id and keeps nothing per session, so a
session is known to have moved when a client brings it back after its version stopped
being routed to it: the gateway answers 404 "session expired" and records the move here,
once per session (a digest of its id), attributed to the history entry in force then (the
state row's ``version``, which is the ``seq`` of its last event). Sessions that never
come back (their client had gone) are not counted: the count is of sessions *moved*.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.gateway_tables import GatewaySessionMove


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def record_move(
    session: Session, server_name: str, environment: str, from_version: str, session_id: str
) -> bool:
    """Count one moved session (True), or nothing when it was counted already (False)."""
    row = session.exec(
        select(DeploymentState.server_id, DeploymentState.environment_id, DeploymentState.version)
        .join(Environment, col(Environment.id) == DeploymentState.environment_id)
        .where(DeploymentState.server_name == server_name, Environment.name == environment)
    ).first()
    if row is None:
        return False
    server_id, environment_id, seq = row
    key = digest(session_id)
    seen = session.exec(
        select(GatewaySessionMove.id).where(
            GatewaySessionMove.server_id == server_id,
            GatewaySessionMove.environment_id == environment_id,
            GatewaySessionMove.session_digest == key,
        )
    ).first()
    if seen is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                GatewaySessionMove(
                    server_id=server_id,
                    environment_id=environment_id,
                    seq=seq,
                    from_version=from_version,
                    session_digest=key,
                )
            )
    except sa.exc.IntegrityError:  # another replica counted it first
        return False
    return True


def moved_counts(session: Session, events: Iterable[tuple[int, int, int]]) -> dict[tuple[int, int, int], int]:
    """Sessions moved per ``(server_id, environment_id, seq)`` of the events asked about."""
    wanted = set(events)
    if not wanted:
        return {}
    servers = {server for server, _env, _seq in wanted}
    environments = {env for _server, env, _seq in wanted}
    rows = session.exec(
        select(
            GatewaySessionMove.server_id,
            GatewaySessionMove.environment_id,
            GatewaySessionMove.seq,
            sa.func.count(),
        )
        .where(
            col(GatewaySessionMove.server_id).in_(servers),
            col(GatewaySessionMove.environment_id).in_(environments),
        )
        .group_by(
            col(GatewaySessionMove.server_id),
            col(GatewaySessionMove.environment_id),
            col(GatewaySessionMove.seq),
        )
    ).all()
    return {(s, e, q): int(n) for s, e, q, n in rows if (s, e, q) in wanted}
