"""Console sessions: a token signs in once and becomes a server-side session row.

The browser keeps only a random session id (the cookie); the row keeps its SHA-256, the
id of the token row it came from, the session's CSRF token and its expiry. The token is
never stored in the browser nor a second time here. Each request turns the cookie back
into the token's principal: a revoked or expired token ends every session it opened, and
a session never outlives its token's ``expires_at``.

Plain functions over a database session; no HTTP here (``console.visits`` has the cookie).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from mcpreg.db.console_tables import ConsoleSession
from mcpreg.db.tables import Token
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.services.tokens import authenticate, principal_of

LIFETIME = timedelta(hours=8)
"""How long a console session lasts from sign-in (less when its token expires sooner)."""


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def new_secret() -> str:
    """A fresh random value for a session id or a CSRF token (256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SignedIn:
    """A live console session: who it is, its CSRF token and when it ends."""

    principal: Principal
    csrf: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    """A session just opened: ``session_id`` goes into the cookie, once."""

    session_id: str
    signed_in: SignedIn


def sign_in(session: Session, token: str, *, now: datetime | None = None) -> Opened:
    """Check ``token`` as the API does (401 ``unauthenticated``/``token_expired``) and open a session."""
    principal = authenticate(session, f"Bearer {token.strip()}")
    assert principal.token_id is not None  # authenticate never returns the anonymous principal here
    now = now or utcnow()
    session.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) <= now))
    expires = now + LIFETIME
    if principal.expires_at is not None:
        expires = min(expires, principal.expires_at)
    session_id, csrf = new_secret(), new_secret()
    session.add(
        ConsoleSession(
            id_hash=_hash(session_id),
            token_id=principal.token_id,
            csrf=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    return Opened(session_id, SignedIn(principal, csrf, expires))


def find(session: Session, session_id: str | None, *, now: datetime | None = None) -> SignedIn | None:
    """The live session of this cookie value, or None (unknown, expired, or its token revoked)."""
    if not session_id:
        return None
    now = now or utcnow()
    found = session.exec(
        select(ConsoleSession, Token)
        .join(Token, col(Token.id) == col(ConsoleSession.token_id))
        .where(ConsoleSession.id_hash == _hash(session_id))
    ).first()
    if found is None:
        return None
    row, token = found
    if row.expires_at <= now or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    return SignedIn(principal_of(token), row.csrf, row.expires_at)


def sign_out(session: Session, session_id: str | None) -> None:
    """End the session of this cookie value (nothing when there is none)."""
    if session_id:
        session.exec(delete(ConsoleSession).where(col(ConsoleSession.id_hash) == _hash(session_id)))
