"""Where the gateway forwards: each track's upstream URL and headers, built from the release.

A ``GatewayTarget`` is what one server runs in one environment, per track, as the gateway
needs it: the release's first streamable-http remote with its ``{variables}`` filled in
(from variables only) and its declared ``headers`` given values (variables or secrets),
both from the release's effective configuration for the environment
(``services.config_effective.effective_config``, secrets unsealed). It lives in memory only (the
replica's response-cache memo, dropped whenever the change generation moves, exactly like
``/resolve``'s routed targets) and its ``repr`` never shows a header value.

Routing is ``services.deploy.routing``'s: the same ``Target`` ``/resolve`` renders, so both pick a
track with one call of ``domain.bucketing.route`` on the same inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from mcpreg.crypto import KeyRing
from mcpreg.domain.bucketing import Track
from mcpreg.errors import Conflict, NoStreamableRemote, RegistryError
from mcpreg.services.configuration import effective as config_effective
from mcpreg.services.deploy import routing
from mcpreg.services.environments import get_environment
from mcpreg.services.views import document_of

_VARIABLE = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Upstream:
    """One track's upstream. ``problem`` is set instead of ``url`` when it cannot be reached
    (no streamable-http remote, a value missing): raised when a client is routed to it, so
    the other track keeps serving."""

    server: str
    environment: str
    version: str
    track: Track
    rollout_id: str | None
    url: str = ""
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    problem: RegistryError | None = None

    def usable(self) -> Upstream:
        if self.problem is not None:
            raise self.problem
        return self


@dataclass(frozen=True)
class GatewayTarget:
    """Both tracks of one (environment, server) and the routing between them."""

    routing: routing.Target = field(repr=False)
    stable: Upstream
    canary: Upstream | None
    public: bool = False  # the environment's gateway takes anonymous clients

    def route(self, key: str | None) -> Upstream:
        """The upstream the client with routing key ``key`` gets (None: stable)."""
        chosen = self.routing.route(key)
        return self.canary if chosen.track == "canary" and self.canary is not None else self.stable

    def serving(self, version: str) -> bool:
        """Whether some track still runs ``version``."""
        return version == self.stable.version or (self.canary is not None and self.canary.version == version)


def _fill(template: str, values: dict[str, str], defaults: dict[str, Any]) -> tuple[str, list[str]]:
    """``template`` with each ``{name}`` replaced; the names that had no value."""
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name = match[1]
        if name in values:
            return values[name]
        default = defaults.get(name)
        if isinstance(default, dict) and isinstance(default.get("default"), str):
            return str(default["default"])
        missing.append(name)
        return match[0]

    return _VARIABLE.sub(value, template), missing


def _remote(document: dict[str, Any]) -> dict[str, Any] | None:
    for remote in document.get("remotes") or []:
        if isinstance(remote, dict) and remote.get("type") == "streamable-http" and remote.get("url"):
            return remote
    return None


def build_upstream(session: Session, keyring: KeyRing, resolution: routing.Resolution) -> Upstream:
    """The upstream of one routed release (secrets unsealed here, kept in memory only)."""
    release = resolution.release
    at = Upstream(
        resolution.server, resolution.environment, release.version, resolution.track, resolution.rollout_id
    )
    label = f"{resolution.server}@{release.version}"
    remote = _remote(document_of(release))
    problem: RegistryError
    if remote is None:
        problem = NoStreamableRemote(
            f"{label} has no streamable-http remote for the gateway to forward to",
            field="remotes",
            extra={"release": label},
        )
        return replace(at, problem=problem)
    effective = config_effective.effective_config(
        session, keyring, resolution.server, release.version, resolution.environment, reveal=True
    )
    variables = {name: entry.value for name, entry in effective.variables.items()}
    # Secrets go into headers only: a URL is what HTTP libraries and access logs write down.
    values = {**variables, **{name: entry.value for name, entry in effective.secrets.items()}}
    url, missing = _fill(str(remote["url"]), variables, remote.get("variables") or {})
    headers: list[tuple[str, str]] = []
    for header in remote.get("headers") or []:
        if not isinstance(header, dict) or not isinstance(header.get("name"), str):
            continue
        name = header["name"]
        if name in values:
            headers.append((name, values[name]))
            continue
        template = header.get("value") if isinstance(header.get("value"), str) else header.get("default")
        if isinstance(template, str):
            filled, gaps = _fill(template, values, header.get("variables") or {})
            missing.extend(gaps)
            headers.append((name, filled))
        elif header.get("isRequired") is True:
            missing.append(name)
    if missing:
        problem = Conflict(
            f"{label} needs a value for {', '.join(sorted(set(missing)))} in {resolution.environment} "
            "before the gateway can reach it",
            field="config",
            code="upstream_unconfigured",
            extra={"release": label, "missing": sorted(set(missing))},
        )
        return replace(at, problem=problem)
    return replace(at, url=url, headers=tuple(headers))


def gateway_target(session: Session, keyring: KeyRing, server: str, environment: str) -> GatewayTarget:
    """What ``server`` runs in ``environment`` for the gateway (404 ``no_deployment`` when nothing)."""
    target = routing.target(session, server, environment)
    canary = build_upstream(session, keyring, target.canary) if target.canary is not None else None
    public = get_environment(session, environment).gateway_public
    return GatewayTarget(target, build_upstream(session, keyring, target.stable), canary, public)
