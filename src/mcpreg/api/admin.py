"""Administration: the change journal and tokens."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_object, json_response, query_datetime, query_int, run
from mcpreg.api.schemas.changes import AuditPage, JournalEntry, PageMetadata
from mcpreg.api.schemas.tokens import CreatedToken, Token, TokenList, Whoami
from mcpreg.domain.principal import Principal
from mcpreg.errors import ValidationFailed
from mcpreg.services import journal, tokens


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(f"{key} must be a list of strings", field=key)
    return value


def _optional_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed(f"{key} must be a string", field=key)
    return value


async def audit(request: Request) -> Response:
    params = request.query_params
    limit = query_int(request, "limit", 50, 1, 500)
    since = query_datetime(request, "since")

    def work(session: Session, principal: Principal) -> journal.JournalPage:
        tokens.require(principal, "admin")
        return journal.page(
            session,
            cursor=params.get("cursor"),
            limit=limit,
            server_name=params.get("server"),
            environment=params.get("environment"),
            action_prefix=params.get("action"),
            since=since,
        )

    found = await run(request, work)
    metadata = PageMetadata(next_cursor=found.next_cursor, count=len(found.entries))
    return json_response(
        request, AuditPage(entries=[JournalEntry.of(e) for e in found.entries], metadata=metadata)
    )


async def create_token(request: Request) -> Response:
    body = await json_object(request)
    expires_at = _optional_string(body, "expiresAt")
    expires_in = _optional_string(body, "expiresIn")

    def work(session: Session, principal: Principal) -> tokens.CreatedToken:
        tokens.require(principal, "admin")
        return tokens.create_token(
            session,
            principal,
            name=str(body.get("name", "")),
            scopes=_strings(body, "scopes"),
            namespaces=_strings(body, "namespaces"),
            environments=_strings(body, "environments"),
            expires_at=tokens.expiry(expires_at=expires_at, expires_in=expires_in),
        )

    created = CreatedToken.of(await run(request, work, write=True))
    return json_response(request, created, status=201)


async def list_tokens(request: Request) -> Response:
    def work(session: Session, principal: Principal) -> list[tokens.TokenInfo]:
        tokens.require(principal, "admin")
        return tokens.list_tokens(session)

    return json_response(request, TokenList(tokens=[Token.of(t) for t in await run(request, work)]))


async def revoke_token(request: Request) -> Response:
    name = request.path_params["name"]

    def work(session: Session, principal: Principal) -> tokens.TokenInfo:
        tokens.require(principal, "admin")
        return tokens.revoke_token(session, principal, name)

    return json_response(request, Token.of(await run(request, work, write=True)))


async def whoami(request: Request) -> Response:
    def work(_s: Session, principal: Principal) -> Principal:
        tokens.check_active(principal)
        return principal

    caller = await run(request, work)
    shown = Whoami(
        name=caller.name,
        scopes=sorted(caller.scopes),
        namespaces=list(caller.namespaces),
        environments=list(caller.environments),
    )
    return json_response(request, shown)
