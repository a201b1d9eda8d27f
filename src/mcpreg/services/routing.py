"""Routing: which release one client of a server gets in an environment.

The answer is a pure function of (server, environment, rollout id, client id) and
the canary weight (``mcpreg.domain.bucketing.route``): sticky within a rollout, and
a client in the canary stays in it as the weight grows. No client id: stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.tables import Release
from mcpreg.domain.bucketing import Track, route
from mcpreg.errors import NoDeployment
from mcpreg.services.deploy_state import find_state, is_rolling_out, number
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

    def view(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "environment": self.environment,
            "version": self.release.version,
            "track": self.track,
            "rolloutId": self.rollout_id,
            "weight": number(self.weight),
        }


def route_state(
    session: Session, state: DeploymentState, env: Environment, client_id: str | None
) -> Resolution:
    """Route one client on a state row where something is deployed."""
    weight = state.canary_weight if is_rolling_out(state) and state.canary_release_id is not None else 0.0
    track: Track = "stable"
    if weight > 0 and state.rollout_id is not None:
        track = route(state.server_name, env.name, state.rollout_id, client_id, weight)
    if state.stable_release_id is None:
        raise NoDeployment(f"nothing of {state.server_name} is deployed in {env.name}", field="environment")
    release_id = state.canary_release_id if track == "canary" else state.stable_release_id
    release = session.get(Release, release_id)
    assert release is not None
    return Resolution(state.server_name, env.name, release, track, state.rollout_id, weight)


def resolve(session: Session, server_name: str, env_name: str, client_id: str | None) -> Resolution:
    """The release ``client_id`` gets of ``server_name`` in ``env_name`` (404 ``no_deployment``)."""
    env = get_environment(session, env_name)
    server = get_server(session, server_name)
    state = find_state(session, server, env)
    if state is None:
        raise NoDeployment(f"nothing of {server.name} is deployed in {env.name}", field="environment")
    return route_state(session, state, env, client_id)
