"""Health of deployed versions: recording probe results, and reading them.

``record`` folds one probe result into the version's state (``domain.health``). A change
of state is recorded in the target's deployment history (action ``health``, with the old
and new state and the failure's reason) and so in the journal (``deploy.health``); that
also moves the change generation, so every replica's gateway re-reads the states within
one poll and sends an unhealthy canary's clients to stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.health_tables import VersionHealth
from mcpreg.db.types import utcnow
from mcpreg.domain.health import UNHEALTHY, Health, Thresholds, observe
from mcpreg.domain.principal import Principal
from mcpreg.services.deploy import events
from mcpreg.services.deploy.states import find_state, snapshot
from mcpreg.services.environments import find_environment, get_environment
from mcpreg.services.releases import get_server
from mcpreg.services.tokens import require

PROBER = "prober"  # the actor of health changes
DETAIL = 500  # characters of a failure's reason kept


def _row(session: Session, env: Environment, server: str, version: str) -> VersionHealth | None:
    return session.exec(
        select(VersionHealth).where(
            VersionHealth.environment_id == env.id,
            VersionHealth.server_name == server,
            VersionHealth.version == version,
        )
    ).first()


def record(
    session: Session,
    env_name: str,
    server: str,
    version: str,
    ok: bool,
    detail: str | None = None,
    *,
    thresholds: Thresholds = Thresholds(),
    now: datetime | None = None,
) -> tuple[str | None, str]:
    """Fold one probe result in; the state before and after."""
    now = now or utcnow()
    env = get_environment(session, env_name)
    row = _row(session, env, server, version)
    before = Health(row.state, row.failures, row.successes) if row is not None else None
    after = observe(before, ok, thresholds)
    if row is None:
        row = VersionHealth(
            environment_id=env.id or 0, server_name=server, version=version, state=after.state
        )
        row.changed_at = now
    elif row.state != after.state:
        row.changed_at = now
    row.state, row.failures, row.successes, row.checked_at = after.state, after.failures, after.successes, now
    if not ok:
        row.detail = (detail or "the probe failed")[:DETAIL]
    session.add(row)
    session.flush()
    old = before.state if before is not None else None
    if old != after.state:
        _history(session, env, server, version, old, after.state, None if ok else row.detail, now)
    return old, after.state


def _history(
    session: Session,
    env: Environment,
    server: str,
    version: str,
    old: str | None,
    new: str,
    reason: str | None,
    now: datetime,
) -> None:
    state = find_state(session, get_server(session, server), env)
    if state is None:
        return
    before = snapshot(state)
    events.record_event(
        session,
        state,
        env,
        PROBER,
        "health",
        before,
        now,
        version=version,
        detail={"health": new, "previous": old, **({"reason": reason} if reason else {})},
    )


@dataclass(frozen=True)
class TrackHealth:
    """The prober's state of the version on one track (``state`` None: not probed yet)."""

    version: str
    track: str
    state: str | None = None
    failures: int = 0
    successes: int = 0
    checked_at: datetime | None = None
    changed_at: datetime | None = None
    detail: str | None = None

    @classmethod
    def of(cls, row: VersionHealth, track: str) -> TrackHealth:
        detail = row.detail if row.state != "healthy" else None
        return cls(
            row.version, track, row.state, row.failures, row.successes, row.checked_at, row.changed_at, detail
        )


@dataclass(frozen=True)
class HealthReport:
    """What runs of a server in an environment, stable first, and a note on what it means."""

    server: str
    environment: str
    versions: list[TrackHealth]
    note: str | None


def unhealthy_versions(session: Session, env_name: str, server: str) -> frozenset[str]:
    """The versions of ``server`` the prober holds unhealthy in ``env_name`` (the gateway's read)."""
    env = find_environment(session, env_name)
    if env is None:
        return frozenset()
    rows = session.exec(
        select(VersionHealth.version).where(
            VersionHealth.environment_id == env.id,
            VersionHealth.server_name == server,
            VersionHealth.state == UNHEALTHY,
        )
    ).all()
    return frozenset(rows)


def target_health(session: Session, principal: Principal, env_name: str, server: str) -> HealthReport:
    """The health of what runs of ``server`` in ``env_name``: stable first, then the canary."""
    require(principal, "read", server=server, environment=env_name)
    env = get_environment(session, env_name)
    found = get_server(session, server)
    server = found.name
    state = find_state(session, found, env)
    tracks = []
    if state is not None and state.stable_version:
        tracks.append((state.stable_version, "stable"))
    if state is not None and state.canary_version:
        tracks.append((state.canary_version, "canary"))
    versions = []
    for version, track in tracks:
        row = _row(session, env, server, version)
        versions.append(TrackHealth.of(row, track) if row is not None else TrackHealth(version, track))
    canary = next((v for v in versions if v.track == "canary"), None)
    stable = next((v for v in versions if v.track == "stable"), None)
    note = None
    if canary is not None and canary.state == UNHEALTHY:
        note = f"the canary {canary.version} is unhealthy: its clients are sent to stable until it recovers"
    elif (
        stable is not None and stable.state == UNHEALTHY and canary is not None and canary.state == "healthy"
    ):
        note = f"the stable {stable.version} is unhealthy and the canary healthy: nothing moves by itself"
    return HealthReport(server, env.name, versions, note)


def all_states(session: Session) -> list[tuple[str, str, str, str]]:
    """(server, environment, version, state) of every checked version still stable or canary."""
    rows = session.exec(
        select(VersionHealth, Environment.name, DeploymentState)
        .join(Environment, col(Environment.id) == col(VersionHealth.environment_id))
        .join(
            DeploymentState,
            sa.and_(
                col(DeploymentState.environment_id) == col(VersionHealth.environment_id),
                col(DeploymentState.server_name) == col(VersionHealth.server_name),
            ),
        )
    ).all()
    return [
        (h.server_name, env, h.version, h.state)
        for h, env, st in rows
        if h.version in (st.stable_version, st.canary_version)
    ]
