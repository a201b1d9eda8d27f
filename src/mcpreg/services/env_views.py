"""What one environment shows of the catalogue: the releases deployed there, per server.

``/environments/{env}/v0.1/...`` (``api.env_views``) answers from these: a server appears
when something of it is deployed in the environment; its versions there are the stable
release and a canary that takes traffic; ``latest`` is the release routed to the caller's
client id (stable without one). Each ``Shown`` release carries how it runs there (its
track, the rollout, the canary weight) and, for a mirrored one, where it came from, as the
root listing shows it (``services.mirror.provenance``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.tables import Release
from mcpreg.domain.versions import LATEST
from mcpreg.errors import NoDeployment, NotFound
from mcpreg.services import discovery, environments, releases
from mcpreg.services.deploy.routing import Resolution, route_state
from mcpreg.services.deploy.states import find_state, is_rolling_out
from mcpreg.services.mirror.provenance import sources_of
from mcpreg.services.views import Source


@dataclass(frozen=True)
class Shown:
    """One release as an environment shows it to one client."""

    release: Release
    environment: str
    latest: bool  # the release routed to this client
    track: Literal["stable", "canary"]  # which of the server's deployed releases it is
    rollout_id: str | None
    weight: float  # the share of clients the canary gets now (0 without a live canary)
    source: Source | None  # where a mirrored release came from; None for a local one


@dataclass(frozen=True)
class ShownPage:
    servers: list[Shown]
    next_cursor: str | None


def _deployed(session: Session, state: DeploymentState) -> list[Release]:
    """The releases running on a target: stable, then a canary that takes traffic."""
    ids = [state.stable_release_id]
    if is_rolling_out(state) and state.canary_release_id is not None and state.canary_weight > 0:
        ids.append(state.canary_release_id)
    return [r for r in (session.get(Release, i) for i in ids if i is not None) if r is not None]


def _target(session: Session, env_name: str, name: str) -> tuple[Environment, DeploymentState]:
    env = environments.get_environment(session, env_name)
    state = find_state(session, releases.get_server(session, name), env)
    if state is None or state.stable_release_id is None:
        raise NoDeployment(f"server {name!r} is not deployed in {env.name}", field="serverName")
    return env, state


def _shown(session: Session, pairs: list[tuple[Release, Resolution, DeploymentState]]) -> list[Shown]:
    sources = sources_of(session, [release.id for release, _, _ in pairs])
    return [
        Shown(
            release=release,
            environment=routed.environment,
            latest=release.id == routed.release.id,
            track="canary" if is_rolling_out(state) and release.id == state.canary_release_id else "stable",
            rollout_id=routed.rollout_id,
            weight=routed.weight,
            source=sources.get(release.id or 0),
        )
        for release, routed, state in pairs
    ]


def servers(
    session: Session,
    env_name: str,
    client: str | None,
    *,
    limit: int,
    cursor: str | None = None,
    search: str | None = None,
) -> ShownPage:
    """The servers deployed in ``env_name``, by name, each as its release routed to ``client``;
    ``search`` matches the name or the stable release's description, case-insensitively."""
    env = environments.get_environment(session, env_name)
    query = (
        select(DeploymentState)
        .join(Release, col(DeploymentState.stable_release_id) == col(Release.id))
        .where(DeploymentState.environment_id == env.id)
    )
    if cursor:
        after, _ = discovery.decode_cursor(cursor)
        query = query.where(col(DeploymentState.server_name) > after)
    if search:
        needle = search.lower()
        query = query.where(
            sa.or_(
                sa.func.lower(DeploymentState.server_name).contains(needle, autoescape=True),
                sa.func.lower(Release.description).contains(needle, autoescape=True),
            )
        )
    rows = list(session.exec(query.order_by(col(DeploymentState.server_name)).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    pairs = []
    for state in rows:
        routed = route_state(session, state, env, client)
        pairs.append((routed.release, routed, state))
    following = discovery.encode_cursor(rows[-1].server_name, "") if more and rows else None
    return ShownPage(_shown(session, pairs), following)


def versions(session: Session, env_name: str, name: str, client: str | None) -> list[Shown]:
    """The versions of ``name`` deployed in ``env_name``, highest first."""
    env, state = _target(session, env_name, name)
    routed = route_state(session, state, env, client)
    deployed = sorted(_deployed(session, state), key=lambda r: r.version_key, reverse=True)
    return _shown(session, [(r, routed, state) for r in deployed])


def version(session: Session, env_name: str, name: str, ref: str, client: str | None) -> Shown:
    """One deployed version of ``name`` (``latest``: the one routed to ``client``); 404
    ``version_not_found`` for a version that exists but is not deployed there."""
    env, state = _target(session, env_name, name)
    routed = route_state(session, state, env, client)
    if ref == LATEST:
        return _shown(session, [(routed.release, routed, state)])[0]
    wanted = releases.get_release(session, releases.get_server(session, name), ref)
    if all(r.id != wanted.id for r in _deployed(session, state)):
        raise NotFound(
            f"{name}@{ref} is not deployed in {env.name}", field="version", code="version_not_found"
        )
    return _shown(session, [(wanted, routed, state)])[0]
