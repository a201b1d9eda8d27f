"""Routed targets: ``/resolve``'s whole answer for every client of one server in one environment.

A target holds the rollout id and canary weight that pick a client's track, and each track's
answer (the release and its effective configuration, secrets masked) rendered ahead, so the
API's fast path answers a client with one bucket and a dict lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.bucketing import route
from mcpreg.errors import RegistryError
from mcpreg.services.configuration import effective
from mcpreg.services.configuration.effective import EffectiveConfig
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


Render = Callable[[routing.Resolution, EffectiveConfig], bytes]
"""How one track's answer is written (the API's public model of ``/resolve``)."""


def routed_target(
    session: Session, keyring: KeyRing, server: str, environment: str, render: Render
) -> RoutedTarget:
    """Both tracks' answers, written by ``render`` (secrets masked: nothing is decrypted)."""
    target = routing.target(session, server, environment)

    def answer(resolution: routing.Resolution) -> bytes:
        version = resolution.release.version
        return render(
            resolution,
            effective.effective_config(session, keyring, server, version, environment, reveal=False),
        )

    stable = target.stable
    return RoutedTarget(
        stable.server,
        stable.environment,
        stable.rollout_id,
        stable.weight,
        answer(stable),
        answer(target.canary) if target.canary is not None else None,
    )


def build_target(engine: sa.Engine, keyring: KeyRing, env: str, name: str, render: Render) -> RoutedTarget:
    with unit_of_work(engine) as session:
        return routed_target(session, keyring, name, env, render)


def build_targets(
    engine: sa.Engine, keyring: KeyRing, keys: list[tuple[str, str]], render: Render
) -> dict[tuple[str, str], RoutedTarget]:
    """The routed targets of ``keys`` in one unit of work, leaving out any that cannot be routed."""
    built: dict[tuple[str, str], RoutedTarget] = {}
    with unit_of_work(engine) as session:
        for env, name in keys:
            try:
                built[(env, name)] = routed_target(session, keyring, name, env, render)
            except RegistryError:
                continue
    return built
