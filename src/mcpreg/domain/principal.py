"""Who is asking, and what their token lets them do. Pure rules, no storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase

SCOPES = ("read", "publish", "deploy", "admin", "secrets:read", "connect")
ANONYMOUS_NAME = "anonymous"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller (or the anonymous one). Empty patterns mean "everywhere".

    A principal whose token has an ``expires_at`` holds no scope from that instant on, even
    where it was remembered (the only place these rules read the clock).
    """

    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    namespaces: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    token_id: int | None = None
    expires_at: datetime | None = None

    def expired(self, now: datetime | None = None) -> bool:
        """Whether the token is past its expiry at ``now`` (default: the current UTC time)."""
        return self.expires_at is not None and self.expires_at <= (now or datetime.now(UTC))

    @property
    def is_anonymous(self) -> bool:
        return self.token_id is None and self.name == ANONYMOUS_NAME

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def has_scope(self, scope: str) -> bool:
        if self.expired():
            return False
        if self.is_admin:
            return True
        if scope == "read":
            return bool(self.scopes)
        return scope in self.scopes

    def covers_server(self, server_name: str) -> bool:
        return not self.namespaces or any(fnmatchcase(server_name, p) for p in self.namespaces)

    def covers_environment(self, environment: str) -> bool:
        return not self.environments or any(fnmatchcase(environment, p) for p in self.environments)


ANONYMOUS = Principal(name=ANONYMOUS_NAME)
SYSTEM = Principal(name="system", scopes=frozenset({"admin"}), token_id=0)
