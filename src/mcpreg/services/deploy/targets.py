"""Routed targets: ``/resolve``'s whole answer for every client of one server in one environment.

A target holds the rollout id and canary weight that pick a client's track, and each track's
answer (the release and its effective configuration, secrets masked) rendered ahead, so the
API's fast path answers a client with one bucket and a dict lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.bucketing import route
from mcpreg.errors import RegistryError
from mcpreg.services.configuration import effective
from mcpreg.services.deploy import routing


@dataclass(frozen=True, slots=True)
class RoutedTarget:
    """resolve's answer for every client of one server in one environment, rendered ahead."""

    server: str
    environment: str
    rollout_id: str | None
    weight: float
    stable: bytes
    canary: bytes | None

    def body_for(self, client_id: str | None) -> bytes:
        if self.canary is None or self.rollout_id is None:
            return self.stable
        track = route(self.server, self.environment, self.rollout_id, client_id, self.weight)
        return self.canary if track == "canary" else self.stable


def routed_target(session: Session, keyring: KeyRing, server: str, environment: str) -> RoutedTarget:
    """Render both tracks' answers (secrets masked: nothing is decrypted)."""
    target = routing.target(session, server, environment)

    def render(resolution: routing.Resolution) -> bytes:
        body = resolution.view()
        body["config"] = effective.effective_config(
            session, keyring, server, resolution.release.version, environment, reveal=False
        )
        return orjson.dumps(body)

    stable = target.stable
    return RoutedTarget(
        stable.server,
        stable.environment,
        stable.rollout_id,
        stable.weight,
        render(stable),
        render(target.canary) if target.canary is not None else None,
    )


def build_target(engine: sa.Engine, keyring: KeyRing, env: str, name: str) -> RoutedTarget:
    with unit_of_work(engine) as session:
        return routed_target(session, keyring, name, env)


def build_targets(
    engine: sa.Engine, keyring: KeyRing, keys: list[tuple[str, str]]
) -> dict[tuple[str, str], RoutedTarget]:
    """The routed targets of ``keys`` in one unit of work, leaving out any that cannot be routed."""
    built: dict[tuple[str, str], RoutedTarget] = {}
    with unit_of_work(engine) as session:
        for env, name in keys:
            try:
                built[(env, name)] = routed_target(session, keyring, name, env)
            except RegistryError:
                continue
    return built
