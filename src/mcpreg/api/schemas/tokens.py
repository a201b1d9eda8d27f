"""Tokens (``/api/tokens``, admin) and the caller's own (``/api/whoami``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from mcpreg.api.schemas.base import Answer, LenientBody
from mcpreg.api.schemas.operations import Operation

Scope = Literal["read", "publish", "deploy", "secrets:read", "admin", "connect"]


class Token(Answer):
    """A token as listed: never its secret (only its SHA-256 is stored)."""

    id: int
    name: str
    scopes: list[Scope]
    namespaces: list[str] = Field(description="server name patterns; empty: every server")
    environments: list[str] = Field(description="environment patterns; empty: every environment")
    created_at: datetime
    created_by: str | None
    revoked: bool
    expires_at: datetime | None = Field(description="null: never expires")
    expired: bool


class _Plaintext(Answer):
    token: str = Field(description="the bearer token, shown this once")


class CreatedToken(Token, _Plaintext):
    """A new token, its plaintext first (the one answer that shows it), then the token as listed."""


class TokenList(Answer):
    tokens: list[Token]


class TokenCreate(LenientBody):
    """A new token; ``expiresIn`` (``30d``, ``12h``, ``90m``, seconds) or ``expiresAt``, not both."""

    name: str
    scopes: list[Scope] | Scope
    namespaces: list[str] | str | None = None
    environments: list[str] | str | None = None
    expires_at: datetime | None = None
    expires_in: str | None = Field(default=None, examples=["30d"])


class Whoami(Answer):
    """The caller: its token's name and patterns (anonymous: no scopes)."""

    name: str
    scopes: list[Scope]
    namespaces: list[str]
    environments: list[str]


OPERATIONS = (
    Operation(
        "POST",
        "/api/tokens",
        "Create a token (admin); its secret is in this answer only",
        "tokens",
        answer=CreatedToken,
        status=201,
        body=TokenCreate,
        auth="required",
        codes=("validation_failed", "token_exists"),
    ),
    Operation(
        "GET",
        "/api/tokens",
        "Every token, without secrets (admin)",
        "tokens",
        answer=TokenList,
        auth="required",
    ),
    Operation(
        "DELETE",
        "/api/tokens/{name}",
        "Revoke a token (admin)",
        "tokens",
        answer=Token,
        auth="required",
        codes=("not_found",),
    ),
    Operation("GET", "/api/whoami", "The caller's own token (anonymous: no scopes)", "tokens", answer=Whoami),
)
