"""Request parsing and response building shared by every handler.

A handler parses, calls one service inside one unit of work (``run``), and turns the
result into JSON. Reads carry an ``ETag`` and answer ``If-None-Match`` with 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.fastpath.cache import JSON, Entry, answer, etag_for
from mcpreg.api.fastpath.memo import Memo
from mcpreg.api.runtime import runtime
from mcpreg.db.engine import single_read, unit_of_work
from mcpreg.domain.principal import ANONYMOUS, Principal
from mcpreg.domain.storable import (
    MAX_DEPTH,
    MAX_ROW_ID,
    id_cursor,
    nul_pointer,
    parse_time,
    refuse_nul,
    refuse_too_deep,
    too_deep_pointer,
)
from mcpreg.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from mcpreg.services.journal import catalogue_servers, changed, current_generations
from mcpreg.services.tokens import authenticate
from mcpreg.settings import Settings

T = TypeVar("T")


def settings_of(request: Request) -> Settings:
    return runtime(request.app).settings


def _principals(request: Request) -> Memo[str, Principal]:
    return runtime(request.app).principals


def _remembered(request: Request, key: str) -> Principal | None:
    """The principal remembered for this token, unless its token has expired since
    (then it is authenticated again, which answers 401)."""
    known = _principals(request).get(key)
    return None if known is None or known.expired() else known


def token_key(authorization: str) -> str:
    """What a principal is remembered under: never the token itself."""
    return hashlib.sha256(authorization.encode()).hexdigest()


async def run(request: Request, work: Callable[[Session, Principal], T], *, write: bool = False) -> T:
    """Authenticate and run ``work`` in one transaction on a worker thread.

    A read by a token this replica has seen since the last change skips the token query:
    principals are remembered until the change generation moves (revoking a token is a
    change). A write always checks its token in its own transaction.
    """
    authorization = request.headers.get("authorization")
    key = token_key(authorization) if authorization and not write else None
    known = _remembered(request, key) if key is not None else None
    epoch = runtime(request.app).cache.epoch
    seen: list[Principal] = []

    def call(session: Session) -> T:
        principal = known or authenticate(session, authorization)
        seen.append(principal)
        return work(session, principal)

    result = await transact(request, call, write=write)
    if not write and key is not None and known is None:
        _principals(request).put(key, seen[0], epoch)
    return result


async def transact(request: Request, call: Callable[[Session], T], *, write: bool = False) -> T:
    """Run ``call`` in one unit of work on a worker thread; after a write, tell this
    replica's response cache what it changed (the API's ``run`` and the console's pages)."""
    rt = runtime(request.app)

    def _call() -> tuple[T, tuple[int, int] | None, list[str | None]]:
        with unit_of_work(rt.engine, write=write) as session:
            result = call(session)
            # The generations this write produced (read in its own transaction).
            generations = current_generations(session) if write and changed(session) else None
        return result, generations, catalogue_servers(session)

    result, generations, servers = await run_in_threadpool(_call)
    if write:
        rt.cache.wrote(generations, servers)
    return result


async def read(request: Request, work: Callable[[sa.Connection], T]) -> T:
    """Run one anonymous read statement on a worker thread (``db.engine.single_read``).

    For the hottest public reads only: no ORM session, no token check (only ever called
    for a request without ``Authorization``), nothing written.
    """
    engine = runtime(request.app).engine

    def _call() -> T:
        with single_read(engine) as connection:
            return work(connection)

    return await run_in_threadpool(_call)


async def principal_of(request: Request) -> Principal:
    """The caller, from the remembered principals or from the token table (see ``run``)."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return ANONYMOUS
    key = token_key(authorization)
    known = _remembered(request, key)
    if known is not None:
        return known
    rt = runtime(request.app)
    epoch = rt.cache.epoch

    def _call() -> Principal:
        with unit_of_work(rt.engine) as session:
            return authenticate(session, authorization)

    principal = await run_in_threadpool(_call)
    _principals(request).put(key, principal, epoch)
    return principal


def _check_content_type(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"send the body as {JSON} (got {content_type or 'no content type'})", field="Content-Type"
        )


async def limited_body(request: Request) -> bytes:
    """The raw body, refused with 413 as soon as it passes MCPREG_MAX_BODY_BYTES."""
    limit = settings_of(request).max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes", field="body")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes", field="body")
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, *, optional: bool = False) -> Any:
    """The parsed JSON body, refusing wrong content types, oversize and malformed bodies.

    With ``optional``, an empty body (of any content type) is ``None``.
    """
    if not optional:
        _check_content_type(request)
    raw = await limited_body(request)
    if not raw.strip():
        if optional:
            return None
        raise BadRequest("the request needs a JSON body", field="body", code="empty_body")
    if optional:
        _check_content_type(request)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}", field="body", code="malformed_json") from None
    # JSON can only carry a NUL as this escape (raw control characters are malformed).
    if b"\\u0000" in raw and (pointer := nul_pointer(body)) is not None:
        raise refuse_nul(pointer)
    # Nesting needs as many brackets as levels: most bodies are never walked.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and (pointer := too_deep_pointer(body)) is not None:
        raise refuse_too_deep(pointer)
    return body


async def json_object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object; with ``optional``, ``{}`` when the request has no body."""
    body = await json_body(request, optional=optional)
    if body is None and optional:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object", field="body", code="invalid_body")
    return body


def json_response(
    request: Request | None, data: Any, *, status: int = 200, cacheable: bool = False
) -> Response:
    """``data`` as JSON: a public model (``api.schemas``) by alias, or plain JSON values."""
    body = data.model_dump_json().encode() if isinstance(data, BaseModel) else orjson.dumps(data)
    return bytes_response(request, body, status=status, cacheable=cacheable)


def bytes_response(
    request: Request | None,
    body: bytes,
    *,
    status: int = 200,
    cacheable: bool = False,
    etag: str | None = None,
) -> Response:
    if not (cacheable and request is not None and status == 200):
        return Response(body, status_code=status, media_type=JSON)
    # A cacheable read: its headers (ETag, Cache-Control, Vary; 304) come from the function
    # that makes the cache's and the front door's, so the three cannot differ.
    cache_control = settings_of(request).cache_control.encode("latin-1")
    answered, headers, content = answer(
        Entry(body, etag or etag_for(body), None), request.scope, cache_control
    )
    response = Response(content, status_code=answered)
    response.raw_headers = headers
    return response


def query_param(request: Request, name: str) -> str | None:
    """The last value of a query parameter (Starlette's rule), or None.

    ``QueryParams.get`` goes through ``Mapping.get``, which raises and catches a KeyError
    for every absent parameter: measurable on the hottest reads, which have none.
    """
    params = request.query_params
    return params[name] if name in params else None  # noqa: SIM401 (the point of it)


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer parameter in ASCII digits (``int`` alone also takes ``"٣"`` and ``"1_0"``)."""
    raw = query_param(request, name)
    if raw is None or raw == "":
        return default
    digits = raw[1:] if raw.startswith("-") else raw
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19 or not low <= int(raw) <= high:
        raise ValidationFailed(f"{name} must be an integer from {low} to {high}", field=name)
    return int(raw)


def query_id_cursor(request: Request, name: str = "cursor") -> str | None:
    """A cursor that is a row id, checked here so no service binds one beyond 64 bits."""
    raw = query_param(request, name)
    if not raw:
        return None
    return str(id_cursor(raw, field=name))


def path_row_id(request: Request, name: str = "id") -> int | None:
    """An ``{id:int}`` path parameter, or None when it is beyond any row id (no such row)."""
    value: int = request.path_params[name]
    return value if value <= MAX_ROW_ID else None


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = query_param(request, name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise ValidationFailed(f"{name} must be true or false", field=name)


def query_datetime(request: Request, name: str) -> datetime | None:
    raw = query_param(request, name)
    if not raw:
        return None
    return parse_time(raw, field=name)


def server_name(request: Request) -> str:
    """Server names contain one slash; both ``ns/name`` and ``ns%2Fname`` land here."""
    return f"{request.path_params['namespace']}/{request.path_params['server']}"
