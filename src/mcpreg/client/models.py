"""What the client hands back for a release: the server.json document and its facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OFFICIAL = "io.modelcontextprotocol.registry/official"
MCPREG = "dev.mcpreg/release"
DEPLOYMENT = "dev.mcpreg/deployment"


@dataclass(frozen=True)
class Release:
    """One release of a server as the registry answered it.

    ``server`` is the server.json document as published; ``meta`` is the response's
    ``_meta`` (the official registry facts, and mcpreg's lifecycle facts when present).
    Read through an environment, ``environment`` names it and ``track`` says whether the
    caller was routed to the ``stable`` or the ``canary`` release.
    """

    server: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)
    environment: str | None = None
    track: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_body(cls, body: Any, *, environment: str | None = None) -> Release:
        """Read an official ``ServerResponse`` (plain, mcpreg's release view, or an environment's)."""
        if not isinstance(body, dict):
            raise TypeError("expected a JSON object for a release")
        server = body.get("server")
        meta = body.get("_meta")
        meta_dict: dict[str, Any] = meta if isinstance(meta, dict) else {}
        routed = meta_dict.get(DEPLOYMENT)
        deployment: dict[str, Any] = routed if isinstance(routed, dict) else {}
        track = deployment.get("track")
        named = environment if environment is not None else deployment.get("environment")
        return cls(
            server=server if isinstance(server, dict) else {},
            meta=meta_dict,
            environment=named if isinstance(named, str) else None,
            track=str(track) if isinstance(track, str) else None,
            raw=body,
        )

    @property
    def name(self) -> str:
        return str(self.server.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.server.get("version", ""))

    @property
    def description(self) -> str:
        return str(self.server.get("description", ""))

    @property
    def official(self) -> dict[str, Any]:
        value = self.meta.get(OFFICIAL)
        return value if isinstance(value, dict) else {}

    @property
    def lifecycle(self) -> dict[str, Any]:
        value = self.meta.get(MCPREG)
        return value if isinstance(value, dict) else {}

    @property
    def deployment(self) -> dict[str, Any]:
        """Read through an environment: ``environment``, ``track``, ``rolloutId``, ``weight``."""
        value = self.meta.get(DEPLOYMENT)
        return value if isinstance(value, dict) else {}

    @property
    def status(self) -> str:
        """``draft``, ``active``, ``deprecated`` or ``deleted``."""
        return str(self.lifecycle.get("state") or self.official.get("status") or "")

    @property
    def is_latest(self) -> bool:
        return bool(self.official.get("isLatest"))

    @property
    def channels(self) -> list[str]:
        value = self.lifecycle.get("channels")
        if isinstance(value, list):
            return [str(c) for c in value]
        return ["latest"] if self.is_latest else []
