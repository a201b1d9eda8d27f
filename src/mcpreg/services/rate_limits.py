"""The gateway's rate limits: an environment's default, and per-server overrides.

Setting or removing a limit needs the ``deploy`` scope over the environment (and the
server, for an override); reading them needs ``read`` over the same. Every change is
journaled with what it replaced. ``effective`` is what the gateway applies: the server's
own limit where it has one, else the environment's default, else none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from mcpreg.db.deploy_tables import Environment
from mcpreg.db.limit_tables import DEFAULT, RateLimit
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.domain.rate_limits import NO_LIMITS, Limit, Limits
from mcpreg.errors import NotFound
from mcpreg.services import journal
from mcpreg.services.environments import find_environment, get_environment
from mcpreg.services.releases import get_server
from mcpreg.services.tokens import require


def _limits(row: RateLimit) -> Limits:
    target = Limit(row.rate, row.burst) if row.rate is not None and row.burst is not None else None
    client = (
        Limit(row.client_rate, row.client_burst)
        if row.client_rate is not None and row.client_burst is not None
        else None
    )
    return Limits(target, client)


@dataclass(frozen=True)
class RateLimitInfo:
    """A limit as set: the environment's default (``server`` None) or one server's there."""

    environment: str
    server: str | None
    rate: float | None
    burst: int | None
    client_rate: float | None
    client_burst: int | None
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, env: str, server: str | None, row: RateLimit) -> RateLimitInfo:
        return cls(
            env,
            server,
            row.rate,
            row.burst,
            row.client_rate,
            row.client_burst,
            row.updated_at,
            row.updated_by,
        )


def _row(session: Session, env: Environment, server: str) -> RateLimit | None:
    return session.exec(
        select(RateLimit).where(RateLimit.environment_id == env.id, RateLimit.server_name == server)
    ).first()


def _existing(session: Session, env: Environment, server_name: str | None) -> RateLimit:
    """The limit set for ``server_name`` in ``env`` (None: the default), else 404."""
    row = _row(session, env, get_server(session, server_name).name if server_name is not None else DEFAULT)
    if row is None:
        what = f"{server_name} in {env.name}" if server_name else f"environment {env.name}"
        raise NotFound(f"no rate limit is set for {what}", field="server" if server_name else "environment")
    return row


def effective(session: Session, env_name: str, server_name: str) -> Limits:
    """What the gateway applies to ``server_name`` in ``env_name`` (no check: the gateway's own read)."""
    env = find_environment(session, env_name)
    if env is None:
        return NO_LIMITS
    rows = session.exec(
        select(RateLimit).where(
            RateLimit.environment_id == env.id,
            RateLimit.server_name.in_([DEFAULT, server_name]),  # type: ignore[attr-defined]
        )
    ).all()
    own = next((r for r in rows if r.server_name == server_name), None)
    default = next((r for r in rows if r.server_name == DEFAULT), None)
    chosen = own or default
    return _limits(chosen) if chosen is not None else NO_LIMITS


def list_limits(session: Session, principal: Principal, env_name: str) -> list[RateLimitInfo]:
    """The environment's default (if set) first, then each override the caller may read."""
    require(principal, "read", environment=env_name)
    env = get_environment(session, env_name)
    rows = session.exec(
        select(RateLimit).where(RateLimit.environment_id == env.id).order_by(RateLimit.server_name)
    ).all()
    return [
        RateLimitInfo.of(env.name, r.server_name or None, r)
        for r in rows
        if r.server_name == DEFAULT or principal.covers_server(r.server_name)
    ]


def get_limit(
    session: Session, principal: Principal, env_name: str, server_name: str | None
) -> RateLimitInfo:
    require(principal, "read", environment=env_name, server=server_name)
    env = get_environment(session, env_name)
    return RateLimitInfo.of(env.name, server_name, _existing(session, env, server_name))


def set_limit(
    session: Session, principal: Principal, env_name: str, server_name: str | None, limits: Limits
) -> RateLimitInfo:
    """Set the environment's default (``server_name`` None) or one server's limit there."""
    require(principal, "deploy", environment=env_name, server=server_name)
    env = get_environment(session, env_name)
    name = get_server(session, server_name).name if server_name is not None else DEFAULT
    row = _row(session, env, name)
    before = _limits(row).to_dict() if row is not None else None
    if row is None:
        row = RateLimit(environment_id=env.id or 0, server_name=name, updated_by=principal.name)
    row.rate = limits.target.rate if limits.target else None
    row.burst = limits.target.burst if limits.target else None
    row.client_rate = limits.client.rate if limits.client else None
    row.client_burst = limits.client.burst if limits.client else None
    row.updated_at, row.updated_by = utcnow(), principal.name
    session.add(row)
    session.flush()
    journal.record(
        session,
        principal,
        "rate_limit.set",
        server_name=server_name,
        environment=env.name,
        before=before,
        after=limits.to_dict(),
    )
    return RateLimitInfo.of(env.name, server_name, row)


def delete_limit(session: Session, principal: Principal, env_name: str, server_name: str | None) -> None:
    require(principal, "deploy", environment=env_name, server=server_name)
    env = get_environment(session, env_name)
    row = _existing(session, env, server_name)
    before = _limits(row).to_dict()
    session.delete(row)
    session.flush()
    journal.record(
        session, principal, "rate_limit.delete", server_name=server_name, environment=env.name, before=before
    )
