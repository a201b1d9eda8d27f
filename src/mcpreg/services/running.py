"""Where a release runs: the environments whose stable or live canary it is.

Read-only over the deployment state (``services.deploy.states``). Deleting a release
that runs somewhere is refused unless forced (every environment would keep routing
to a deleted release); deprecating one is allowed, and the answer says where it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import Environment
from mcpreg.db.tables import Release, Server
from mcpreg.errors import Conflict
from mcpreg.services.deploy.states import states_of

RUNNING = "dev.mcpreg/running"
"""The ``_meta`` key of a status answer that lists where the release runs."""


@dataclass(frozen=True)
class Placement:
    """One environment a release runs in, as its ``stable`` or ``canary`` track."""

    environment: str
    track: str

    def as_dict(self) -> dict[str, str]:
        return {"environment": self.environment, "track": self.track}


def placements(session: Session, server: Server, versions: set[str]) -> dict[str, list[Placement]]:
    """For each of ``versions`` that runs somewhere, where, in promotion order."""
    states = states_of(session, server)
    if not states:
        return {}
    environments = session.exec(
        select(Environment).where(col(Environment.id).in_(list(states))).order_by(col(Environment.position))
    )
    found: dict[str, list[Placement]] = {}
    for env in environments:
        state = states[env.id or 0]
        if state.stable_version in versions:
            found.setdefault(state.stable_version, []).append(Placement(env.name, "stable"))
        if state.canary_version in versions and state.canary_weight > 0:
            found.setdefault(state.canary_version, []).append(Placement(env.name, "canary"))
    return found


def where_running(session: Session, server: Server, release: Release) -> list[Placement]:
    return placements(session, server, {release.version}).get(release.version, [])


def where_running_release(session: Session, release: Release) -> list[Placement]:
    server = session.get(Server, release.server_id)
    return where_running(session, server, release) if server is not None else []


def describe(where: list[Placement]) -> str:
    return ", ".join(f"{p.environment} ({p.track})" for p in where)


def refuse_deleting_running(server: Server, running: dict[str, list[Placement]]) -> None:
    """409 ``release_in_use`` naming every environment a release to be deleted runs in."""
    if not running:
        return
    versions = sorted(running)
    where = [p for version in versions for p in running[version]]
    names = sorted({p.environment for p in where})
    what = ", ".join(f"{server.name}@{v} runs in {describe(running[v])}" for v in versions)
    raise Conflict(
        f"{what}; deploy another version there first, or delete with force",
        field="status",
        code="release_in_use",
        extra={
            "environments": names,
            "running": {v: [p.as_dict() for p in running[v]] for v in versions},
        },
    )
