"""API tokens: created once and shown once, stored as SHA-256, checked on every write."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.tables import Token
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import ANONYMOUS, SCOPES, Principal
from mcpreg.domain.rollout import parse_duration
from mcpreg.domain.storable import parse_time
from mcpreg.domain.timestamps import rfc3339
from mcpreg.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    TokenExpired,
    Unauthenticated,
    ValidationFailed,
)
from mcpreg.services import journal

TOKEN_PREFIX = "mcpreg_"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_PATTERN_RE = re.compile(r"^[A-Za-z0-9.*?\[\]_/-]{1,200}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed and journalled: never its secret (only its hash is stored)."""

    id: int
    name: str
    scopes: tuple[str, ...]
    namespaces: tuple[str, ...]
    environments: tuple[str, ...]
    created_at: datetime
    created_by: str | None
    revoked: bool
    expires_at: datetime | None
    expired: bool

    @classmethod
    def of(cls, row: Token) -> TokenInfo:
        return cls(**_fields(row))


@dataclass(frozen=True)
class CreatedToken(TokenInfo):
    """A new token with its plaintext, which is shown this once and never stored."""

    token: str


def _fields(row: Token) -> dict[str, Any]:
    return {
        "id": row.id or 0,
        "name": row.name,
        "scopes": _split(row.scopes),
        "namespaces": _split(row.namespaces),
        "environments": _split(row.environments),
        "created_at": row.created_at,
        "created_by": row.created_by,
        "revoked": row.revoked_at is not None,
        "expires_at": row.expires_at,
        "expired": row.expires_at is not None and row.expires_at <= utcnow(),
    }


def _split(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(",") if p)


def expiry(
    *, expires_at: str | None = None, expires_in: str | None = None, now: datetime | None = None
) -> datetime | None:
    """When a new token expires: ``expiresAt`` (RFC 3339, in the future) or ``expiresIn`` (``30d``).

    Neither means never. ``expiresIn`` takes the rollout pauses' duration syntax (``30d``,
    ``12h``, ``1d12h``, ``3600``), at most 365 days.
    """
    now = now or utcnow()
    if expires_at is not None and expires_in is not None:
        raise ValidationFailed("give expiresAt or expiresIn, not both", field="expiresIn")
    if expires_in is not None:
        seconds = parse_duration(expires_in, field="expiresIn")
        if seconds <= 0:
            raise ValidationFailed("expiresIn must be longer than 0 seconds", field="expiresIn")
        return now + timedelta(seconds=seconds)
    if expires_at is None:
        return None
    # One rule for every stored time: RFC 3339 with a zone, and within what the databases
    # hold once in UTC (9999-12-31T23:30:00-01:00 is not).
    value = parse_time(expires_at.strip().replace("z", "Z"), field="expiresAt")
    if value <= now:
        raise ValidationFailed(
            f"expiresAt must be in the future (it is now {rfc3339(now)})", field="expiresAt"
        )
    return value


def create_token(
    session: Session,
    actor: Principal,
    *,
    name: str,
    scopes: list[str],
    namespaces: list[str] | None = None,
    environments: list[str] | None = None,
    expires_at: datetime | None = None,
) -> CreatedToken:
    """Create a token; the returned plaintext is never stored and never shown again.

    ``expires_at`` (see ``expiry``) is when it stops working; ``None``: never. Two creations
    of one name at once: exactly one lands, the other is 409 ``token_exists``.
    """
    if not _NAME_RE.fullmatch(name or ""):
        raise ValidationFailed("a token name is 1-100 letters, digits, '.', '_', '@' or '-'", field="name")
    if not scopes:
        raise ValidationFailed("at least one scope is required", field="scope")
    for scope in scopes:
        if scope not in SCOPES:
            raise ValidationFailed(f"unknown scope {scope!r}; one of {', '.join(SCOPES)}", field="scope")
    for field_name, patterns in (("namespace", namespaces or []), ("environment", environments or [])):
        for pattern in patterns:
            if not _PATTERN_RE.fullmatch(pattern):
                raise ValidationFailed(f"{pattern!r} is not a valid {field_name} pattern", field=field_name)
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= utcnow()):
        raise ValidationFailed("expiresAt must be an aware date-time in the future", field="expiresAt")
    exists = Conflict(f"a token named {name!r} already exists", field="name", code="token_exists")
    if session.exec(select(Token).where(Token.name == name)).first() is not None:
        raise exists
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = Token(
        name=name,
        token_hash=hash_token(plaintext),
        scopes=",".join(sorted(set(scopes))),
        namespaces=",".join(namespaces or []),
        environments=",".join(environments or []),
        created_by=actor.name,
        expires_at=expires_at,
    )
    try:
        # A concurrent creation of the same name passed the check above too; on PostgreSQL
        # this insert then waits for it and fails on the unique name: that is a conflict.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except sa.exc.IntegrityError:
        raise exists from None
    journal.record(session, actor, "token.create", after=TokenInfo.of(row))
    return CreatedToken(**_fields(row), token=plaintext)


def revoke_token(session: Session, actor: Principal, name: str) -> TokenInfo:
    row = session.exec(select(Token).where(Token.name == name)).first()
    if row is None:
        raise NotFound(f"no token named {name!r}", field="name")
    before = TokenInfo.of(row)
    row.revoked_at = utcnow()
    session.add(row)
    after = TokenInfo.of(row)
    journal.record(session, actor, "token.revoke", before=before, after=after)
    return after


def list_tokens(session: Session) -> list[TokenInfo]:
    return [TokenInfo.of(t) for t in session.exec(select(Token).order_by(col(Token.id)))]


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Turn an ``Authorization`` header into a principal (anonymous when absent)."""
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "use 'Authorization: Bearer <token>'", field="Authorization", bearer_error="invalid_request"
        )
    row = session.exec(select(Token).where(Token.token_hash == hash_token(token.strip()))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated(
            "the token is unknown or revoked", field="Authorization", bearer_error="invalid_token"
        )
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise TokenExpired(f"the token expired at {rfc3339(row.expires_at)}", field="Authorization")
    return principal_of(row)


def principal_of(row: Token) -> Principal:
    """Who a token row stands for (``authenticate``'s answer; the console's sessions too)."""
    return Principal(
        name=row.name,
        scopes=frozenset(_split(row.scopes)),
        namespaces=_split(row.namespaces),
        environments=_split(row.environments),
        token_id=row.id,
        expires_at=row.expires_at,
    )


def check_active(principal: Principal) -> None:
    """Refuse a principal whose token expired since it was authenticated (and remembered)."""
    if principal.expires_at is not None and principal.expired():
        raise TokenExpired(f"the token expired at {rfc3339(principal.expires_at)}", field="Authorization")


def require(
    principal: Principal, scope: str, *, server: str | None = None, environment: str | None = None
) -> None:
    """Refuse unless the principal holds ``scope`` over the server and environment named."""
    if principal.is_anonymous:
        raise Unauthenticated("this needs 'Authorization: Bearer <token>'", field="Authorization")
    check_active(principal)
    if not principal.has_scope(scope):
        raise PermissionDenied(f"this needs a token with the {scope!r} scope", field="scope")
    if server is not None and not principal.covers_server(server):
        raise PermissionDenied(
            f"the token may not act on {server!r}: outside its namespaces",
            field="name",
            code="namespace_denied",
        )
    if environment is not None and not principal.covers_environment(environment):
        raise PermissionDenied(
            f"the token may not act on environment {environment!r}",
            field="environment",
            code="environment_denied",
        )
