"""The catalogue as the console lists it: one row per server (not per release, as the
official API pages), paged by server name, searched by name and description, filtered by a
release status; each row with the server's newest release of that status, ``latest``, its
channels and where it runs (stable, canary and weight per environment, in promotion order).

Public data only: drafts are never listed (a draft has no status of these three).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import DeploymentState
from mcpreg.db.tables import Channel, Release, Server
from mcpreg.domain.versions import LATEST
from mcpreg.services import environments

PAGE_SIZE = 20
STATUSES = ("active", "deprecated", "deleted")


@dataclass(frozen=True)
class Placement:
    environment: str
    stable: str | None
    canary: str | None
    weight: float


@dataclass(frozen=True)
class Entry:
    """One server on the catalogue: its newest release of the chosen status, and what points at it."""

    name: str
    description: str
    version: str
    latest: str | None
    channels: list[tuple[str, str]] = field(default_factory=list)
    running: list[Placement] = field(default_factory=list)


@dataclass(frozen=True)
class Query:
    search: str = ""
    status: str = "active"
    cursor: str = ""


def _names(session: Session, q: Query, size: int) -> tuple[list[str], str | None]:
    """One page of server names having a release of the status (and matching the search)."""
    query = select(Release.server_name).where(Release.status == q.status).distinct()
    if q.search:
        needle = q.search.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(Release.server_name).contains(needle, autoescape=True),
                sa.func.lower(Release.description).contains(needle, autoescape=True),
            )
        )
    if q.cursor:
        query = query.where(col(Release.server_name) > q.cursor)
    names = list(session.exec(query.order_by(col(Release.server_name)).limit(size + 1)))
    more = len(names) > size
    names = names[:size]
    return names, (names[-1] if more and names else None)


def listing(session: Session, q: Query, size: int = PAGE_SIZE) -> tuple[list[Entry], str | None]:
    """One page of ``size`` servers by name and the next page's cursor; each fact read for the
    whole page at once (six queries a page)."""
    names, next_cursor = _names(session, q, size)
    if not names:
        return [], next_cursor
    newest: dict[str, Release] = {}
    for release in session.exec(
        select(Release)
        .where(col(Release.server_name).in_(names), Release.status == q.status)
        .order_by(col(Release.server_name), col(Release.version_key).desc())
    ):
        newest.setdefault(release.server_name, release)
    latest: dict[str, str] = dict(
        session.exec(
            select(Release.server_name, Release.version).where(
                col(Release.server_name).in_(names), col(Release.is_latest) == sa.true()
            )
        ).all()
    )
    named: dict[str, list[tuple[str, str]]] = {}
    for server_name, channel, version in session.exec(
        select(Server.name, Channel.name, Release.version)
        .join(Channel, col(Channel.server_id) == col(Server.id))
        .join(Release, col(Release.id) == col(Channel.release_id))
        .where(col(Server.name).in_(names))
        .order_by(col(Channel.name))
    ):
        named.setdefault(server_name, []).append((channel, version))
    running: dict[str, list[Placement]] = {}
    envs = environments.list_environments(session)  # promotion order
    position = {env.id: index for index, env in enumerate(envs)}
    env_names = {env.id: env.name for env in envs}
    states = session.exec(
        select(DeploymentState).where(
            col(DeploymentState.server_name).in_(names), col(DeploymentState.stable_version).is_not(None)
        )
    )
    for state in sorted(states, key=lambda st: position.get(st.environment_id, len(position))):
        running.setdefault(state.server_name, []).append(
            Placement(
                env_names[state.environment_id],
                state.stable_version,
                state.canary_version,
                state.canary_weight,
            )
        )
    found = [
        Entry(
            name=name,
            description=newest[name].description,
            version=newest[name].version,
            latest=latest.get(name),
            channels=([(LATEST, latest[name])] if name in latest else []) + named.get(name, []),
            running=running.get(name, []),
        )
        for name in names
    ]
    return found, next_cursor
