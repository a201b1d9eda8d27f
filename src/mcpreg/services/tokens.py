"""API tokens: created once and shown once, stored as SHA-256, checked on every write."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from mcpreg.db.tables import Token
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import ANONYMOUS, SCOPES, Principal
from mcpreg.errors import Conflict, NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from mcpreg.services import journal

TOKEN_PREFIX = "mcpreg_"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
_PATTERN_RE = re.compile(r"^[A-Za-z0-9.*?\[\]_/-]{1,200}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class CreatedToken:
    token: str
    view: dict[str, Any]


def _split(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(",") if p)


def token_view(row: Token) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "scopes": list(_split(row.scopes)),
        "namespaces": list(_split(row.namespaces)),
        "environments": list(_split(row.environments)),
        "createdAt": row.created_at.isoformat().replace("+00:00", "Z"),
        "createdBy": row.created_by,
        "revoked": row.revoked_at is not None,
    }


def create_token(
    session: Session,
    actor: Principal,
    *,
    name: str,
    scopes: list[str],
    namespaces: list[str] | None = None,
    environments: list[str] | None = None,
) -> CreatedToken:
    """Create a token; the returned plaintext is never stored and never shown again."""
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
    if session.exec(select(Token).where(Token.name == name)).first() is not None:
        raise Conflict(f"a token named {name!r} already exists", field="name", code="token_exists")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = Token(
        name=name,
        token_hash=hash_token(plaintext),
        scopes=",".join(sorted(set(scopes))),
        namespaces=",".join(namespaces or []),
        environments=",".join(environments or []),
        created_by=actor.name,
    )
    session.add(row)
    session.flush()
    view = token_view(row)
    journal.record(session, actor, "token.create", after=view)
    return CreatedToken(plaintext, view)


def revoke_token(session: Session, actor: Principal, name: str) -> dict[str, Any]:
    row = session.exec(select(Token).where(Token.name == name)).first()
    if row is None:
        raise NotFound(f"no token named {name!r}", field="name")
    before = token_view(row)
    row.revoked_at = utcnow()
    session.add(row)
    journal.record(session, actor, "token.revoke", before=before, after=token_view(row))
    return token_view(row)


def list_tokens(session: Session) -> list[dict[str, Any]]:
    return [token_view(t) for t in session.exec(select(Token).order_by(col(Token.id)))]


def authenticate(session: Session, authorization: str | None) -> Principal:
    """Turn an ``Authorization`` header into a principal (anonymous when absent)."""
    if not authorization:
        return ANONYMOUS
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("use 'Authorization: Bearer <token>'", field="Authorization")
    row = session.exec(select(Token).where(Token.token_hash == hash_token(token.strip()))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("the token is unknown or revoked", field="Authorization")
    return Principal(
        name=row.name,
        scopes=frozenset(_split(row.scopes)),
        namespaces=_split(row.namespaces),
        environments=_split(row.environments),
        token_id=row.id,
    )


def require(
    principal: Principal, scope: str, *, server: str | None = None, environment: str | None = None
) -> None:
    """Refuse unless the principal holds ``scope`` over the server and environment named."""
    if principal.is_anonymous:
        raise Unauthenticated("this needs 'Authorization: Bearer <token>'", field="Authorization")
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
