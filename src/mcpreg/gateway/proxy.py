"""``/environments/{env}/servers/{name}/mcp``: MCP streamable HTTP, forwarded per client.

One handler for POST, GET and DELETE. It authenticates (a ``connect`` token over the
server and environment, unless the environment's gateway is public), picks the routing
key (``X-Client-Id``, else the principal's name, else the key sealed in the session,
else none: stable), routes on the target ``services.deploy.routing`` gives (the same ``Target``
``/resolve`` answers from), and forwards to that track's upstream through the replica's
upstream pool (``gateway.connections``).

* **Legacy** (initialize, ``Mcp-Session-Id``): an ``initialize`` is routed by its key and
  the answer gets mcpreg's own session id (``gateway.sessions``) sealing the version,
  rollout, upstream session and key. Every later request of the session goes to that
  version while it is still routed for the key, else answers 404 ``session_expired``.
* **Stateless 2026-07-28**: any other request without a session is routed by its key
  alone; ``MCP-Protocol-Version``, ``Mcp-Method``, ``Mcp-Name``, ``Mcp-Param-*`` pass
  unchanged, so a retry chain with one key stays on one version.

Only the MCP headers above, ``Accept``, ``Content-Type``, ``Last-Event-ID`` and
``User-Agent`` are forwarded, plus the release's configured headers; never the client's
``Authorization`` or cookies. An answer of known size up to ``relay.MAX_WHOLE`` that is
not an event stream (the common JSON answer of a stateless ``tools/call``) is read whole and
sent as one response; any other answer streams back as it comes (``gateway.relay``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import limited_body, principal_of, server_name
from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import Principal
from mcpreg.errors import (
    GatewayError,
    RegistryError,
    SessionExpired,
    Unauthenticated,
    UpstreamRefused,
    UpstreamServerError,
    UpstreamTimeout,
)
from mcpreg.gateway.answers import UpstreamAnswer, UpstreamTimedOut, UpstreamUnreachable
from mcpreg.gateway.guard import endpoint
from mcpreg.gateway.health import healthy_route
from mcpreg.gateway.limits import admit
from mcpreg.gateway.outcome import Outcome
from mcpreg.gateway.relay import Exchange, Relay, readable_whole, whole
from mcpreg.gateway.replica import Gateway
from mcpreg.gateway.sessions import PinnedSession
from mcpreg.gateway.upstream import GatewayTarget, Upstream
from mcpreg.services import moved_sessions
from mcpreg.services.tokens import require

log = logging.getLogger("mcpreg.gateway")

SESSION_HEADER = "mcp-session-id"
SESSION_HEADER_RAW = SESSION_HEADER.encode()
_FORWARDED = frozenset(
    {
        b"accept",
        b"content-type",
        b"mcp-protocol-version",
        b"mcp-method",
        b"mcp-name",
        b"last-event-id",
        b"user-agent",
    }
)
_PASSED_BACK = frozenset(
    {b"content-type", b"cache-control", b"mcp-protocol-version", b"retry-after", b"allow"}
)
JSONRPC_SERVER_ERROR = -32603


def _routing_key(request: Request, principal: Principal) -> str | None:
    client = request.headers.get("x-client-id")
    if client:
        return client
    return None if principal.is_anonymous else principal.name


def _forwarded_headers(request: Request, upstream: Upstream, session: str | None) -> dict[str, str]:
    headers: dict[str, str] = {"accept-encoding": "identity"}
    for name, value in request.scope["headers"]:  # raw: only the forwarded ones are decoded
        if name in _FORWARDED or name.startswith(b"mcp-param-"):
            headers[name.decode("latin-1")] = value.decode("latin-1")
    for name, value in upstream.headers:
        headers[name.lower()] = value
    if session is not None:
        headers[SESSION_HEADER] = session
    return headers


def _message(body: bytes) -> tuple[str, Any, bool]:
    """The JSON-RPC method, id and whether a response is expected (first of a batch)."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return "", None, False
    first = parsed[0] if isinstance(parsed, list) and parsed else parsed
    if not isinstance(first, dict):
        return "", None, False
    method = first.get("method")
    return (method if isinstance(method, str) else ""), first.get("id"), "id" in first and "method" in first


async def _target(gateway: Gateway, env: str, name: str) -> GatewayTarget:
    return await gateway.targets.read_through((env, name), lambda: gateway.build_target(env, name))


async def _authorized(request: Request, env: str, name: str) -> tuple[Principal, GatewayTarget]:
    gateway = runtime(request.app).gateway
    principal = await principal_of(request)
    try:
        target = await _target(gateway, env, name)
    except RegistryError:
        if principal.is_anonymous:  # who may not connect learns nothing about what runs there
            raise Unauthenticated(
                "the gateway needs 'Authorization: Bearer <token>'", field="Authorization"
            ) from None
        require(principal, "connect", server=name, environment=env)
        raise
    if not target.public:
        require(principal, "connect", server=name, environment=env)
    return principal, target


async def _record_move(request: Request, name: str, env: str, version: str, session_id: str) -> None:
    engine = runtime(request.app).engine

    def work() -> None:
        with unit_of_work(engine, write=True) as session:
            moved_sessions.record_move(session, name, env, version, session_id)

    try:
        await run_in_threadpool(work)
    except Exception:  # counting is best effort: the client still gets its 404
        log.exception("could not count a moved gateway session of %s in %s", name, env)


def _jsonrpc_error(error: GatewayError, request_id: Any) -> Response:
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {
            "code": JSONRPC_SERVER_ERROR,
            "message": error.detail,
            "data": {"code": error.code, "status": error.status},
        },
    }
    return Response(orjson.dumps(body), status_code=error.status, media_type="application/json")


async def gateway(request: Request) -> Response:
    """Forward one MCP request to the upstream its client is routed to."""
    started = time.perf_counter()
    env, name = request.path_params["env"], server_name(request)
    rt = runtime(request.app)
    gw = rt.gateway
    principal, target = await _authorized(request, env, name)
    body = await limited_body(request) if request.method == "POST" else b""
    method, request_id, expects_answer = _message(body)
    key = _routing_key(request, principal)
    client_session = request.headers.get(SESSION_HEADER)
    pinned: PinnedSession | None = None
    if client_session:
        pinned = gw.seal.open(client_session, server=name, environment=env)
        if pinned is None:
            raise SessionExpired(
                "this gateway session is unknown here; initialize again", field=SESSION_HEADER
            )
        key = key or pinned.key
    await admit(request, env, name, key)  # 429 over the target's or this client's rate limit
    upstream = await healthy_route(request, target, target.route(key), env, name)
    if pinned is not None and upstream.version != pinned.version:
        assert client_session is not None
        await _record_move(request, name, env, pinned.version, client_session)
        raise SessionExpired(
            f"the session was on {name}@{pinned.version}, which is no longer routed for this client; "
            "initialize again",
            field=SESSION_HEADER,
        )
    upstream.usable()
    exchange = Exchange(
        server=name,
        environment=env,
        upstream=upstream,
        method=method,
        started=started,
        session=client_session,
        initialize=method == "initialize" and pinned is None,
        key=key,
    )
    label = f"{name}@{upstream.version}"
    try:
        answer = await _send(gw, request, upstream, body, pinned, label)
        headers = _headers_back(gw, exchange, answer, client_session)
        if readable_whole(answer):
            try:
                content = await answer.read()
            except UpstreamUnreachable as exc:
                raise _failure(exc, label) from None
            return whole(rt.gateway_metrics.observe, exchange, answer, content, headers)
    except GatewayError as error:
        rt.gateway_metrics.observe(exchange.observation(_outcome_of(error), time.perf_counter() - started))
        if expects_answer:
            return _jsonrpc_error(error, request_id)
        raise
    cancel = _canceller(gw, request, upstream, pinned, request_id) if expects_answer else None
    return Relay(rt.gateway_metrics.observe, exchange, answer, headers, cancel)


def _canceller(
    gw: Gateway, request: Request, upstream: Upstream, pinned: PinnedSession | None, request_id: Any
) -> Callable[[], Awaitable[None]] | None:
    """For a legacy session's request: what tells the upstream its client went away (closing a
    legacy stream is not a cancellation by that protocol, ``notifications/cancelled`` is)."""
    if pinned is None or pinned.upstream is None:
        return None
    session = pinned.upstream

    async def cancel() -> None:
        where = await endpoint(upstream.url, private_remotes=gw.settings.allow_private_remotes)
        headers = _forwarded_headers(request, upstream, session)
        headers.pop("mcp-method", None)
        headers.pop("mcp-name", None)
        notice = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": request_id, "reason": "the client went away"},
        }
        answer = await gw.client.request("POST", where, headers.items(), orjson.dumps(notice), gw.timeouts)
        answer.aclose()

    return cancel


def _outcome_of(error: GatewayError) -> Outcome:
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamServerError):
        return "upstream_5xx"
    return "refused"


def _failure(exc: UpstreamUnreachable, label: str) -> GatewayError:
    if isinstance(exc, UpstreamTimedOut):
        return UpstreamTimeout(f"{label} did not answer in time", field="upstream")
    return UpstreamRefused(f"{label} could not be reached: {exc}", field="upstream")


async def _send(
    gw: Gateway, request: Request, upstream: Upstream, body: bytes, pinned: PinnedSession | None, label: str
) -> UpstreamAnswer:
    """The upstream's answer, its body still to be read; 5xx and transport failures raised."""
    method = request.method
    where = await endpoint(upstream.url, private_remotes=gw.settings.allow_private_remotes)
    headers = _forwarded_headers(request, upstream, pinned.upstream if pinned is not None else None)
    try:
        answer = await gw.client.request(
            method,
            where,
            headers.items(),
            body if method == "POST" else None,
            gw.stream_timeouts if method == "GET" else gw.timeouts,
        )
    except UpstreamUnreachable as exc:
        raise _failure(exc, label) from None
    if answer.status_code >= 500:
        answer.aclose()
        raise UpstreamServerError(f"{label} answered {answer.status_code}", field="upstream")
    return answer


def _headers_back(
    gw: Gateway, exchange: Exchange, response: UpstreamAnswer, client_session: str | None
) -> dict[str, str]:
    headers = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in response.headers
        if name in _PASSED_BACK
    }
    upstream_session = response.header(SESSION_HEADER_RAW)
    if exchange.initialize and response.status_code < 400:
        up = exchange.upstream
        sealed = gw.seal.seal(
            PinnedSession(up.version, up.rollout_id, upstream_session, exchange.key),
            server=exchange.server,
            environment=exchange.environment,
        )
        headers[SESSION_HEADER] = sealed
        exchange.session = sealed
    elif client_session is not None and upstream_session is not None:
        headers[SESSION_HEADER] = client_session
    return headers
