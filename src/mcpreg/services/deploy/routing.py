"""Routing: which release one client of a server gets in an environment.

The answer is a pure function of (server, environment, rollout id, client id) and
the canary weight (``mcpreg.domain.bucketing.route``): sticky within a rollout, and
a client in the canary stays in it as the weight grows. No client id: stable.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.tables import Release
from mcpreg.domain.bucketing import Track, route
from mcpreg.errors import NoDeployment
from mcpreg.services.deploy.states import find_state, is_rolling_out
from mcpreg.services.environments import get_environment
from mcpreg.services.releases import get_server


@dataclass(frozen=True)
class Resolution:
    server: str
    environment: str
    release: Release
    track: Track
    rollout_id: str | None
    weight: float


def _canary_weight(state: DeploymentState) -> float:
    """The share of clients routed to the canary: 0 unless a rollout is sending it traffic."""
    return state.canary_weight if is_rolling_out(state) and state.canary_release_id is not None else 0.0


def route_state(
    session: Session, state: DeploymentState, env: Environment, client_id: str | None
) -> Resolution:
    """Route one client on a state row where something is deployed."""
    weight = _canary_weight(state)
    track: Track = "stable"
    if weight > 0 and state.rollout_id is not None:
        track = route(state.server_name, env.name, state.rollout_id, client_id, weight)
    if state.stable_release_id is None:
        raise NoDeployment(f"nothing of {state.server_name} is deployed in {env.name}", field="environment")
    release_id = state.canary_release_id if track == "canary" else state.stable_release_id
    release = session.get(Release, release_id)
    assert release is not None
    return Resolution(state.server_name, env.name, release, track, state.rollout_id, weight)


@dataclass(frozen=True)
class Target:
    """Both answers routing can give for one server in one environment.

    ``canary`` is set only while a rollout sends it traffic; ``route`` then picks per
    client exactly as ``route_state`` does, so a caller may keep a ``Target`` and route
    many clients on it until something changes.
    """

    stable: Resolution
    canary: Resolution | None

    def route(self, client_id: str | None) -> Resolution:
        canary = self.canary
        if canary is None or canary.rollout_id is None:
            return self.stable
        track = route(canary.server, canary.environment, canary.rollout_id, client_id, canary.weight)
        return canary if track == "canary" else self.stable


def target(session: Session, server_name: str, env_name: str) -> Target:
    """What ``server_name`` runs in ``env_name``, per track (404 ``no_deployment`` when nothing)."""
    env = get_environment(session, env_name)
    server = get_server(session, server_name)
    state = find_state(session, server, env)
    if state is None or state.stable_release_id is None:
        raise NoDeployment(f"nothing of {server.name} is deployed in {env.name}", field="environment")
    weight = _canary_weight(state)
    stable = session.get(Release, state.stable_release_id)
    assert stable is not None
    at = (state.server_name, env.name)
    canary = None
    if weight > 0 and state.rollout_id is not None:
        release = session.get(Release, state.canary_release_id)
        assert release is not None
        canary = Resolution(*at, release, "canary", state.rollout_id, weight)
    return Target(Resolution(*at, stable, "stable", state.rollout_id, weight), canary)


def resolve(session: Session, server_name: str, env_name: str, client_id: str | None) -> Resolution:
    """The release ``client_id`` gets of ``server_name`` in ``env_name`` (404 ``no_deployment``)."""
    return target(session, server_name, env_name).route(client_id)
