"""Delivering one signed webhook: a JSON POST, a bounded wait, a plain outcome.

``deliver`` never raises for what the receiver does (an error status, a timeout, a refused
connection): it answers a :class:`Delivery` saying what happened, so a gate or an alert can
record it and retry. The body is JSON (keys sorted, so a receiver can re-serialise it the
same way) and signed as :mod:`mcpreg.domain.signing` describes. The secret is used only to
sign; it is never logged and never part of a ``Delivery``. Redirects are not followed: a
receiver that moved answers 3xx, which is not a pass. Only the answer's status is read,
never its body. ``timeout`` bounds each phase (connect, send, wait for the answer) as
httpx's timeouts do.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from mcpreg.domain.addresses import address_allowed, parse_address
from mcpreg.domain.signing import sign

log = logging.getLogger("mcpreg.webhooks")

MAX_ERROR_CHARS = 300  # of an error description kept in a Delivery


@dataclass(frozen=True)
class Delivery:
    """What one POST did: ``ok`` for a 2xx answer; ``status`` None when none came back."""

    delivery_id: str
    status: int | None
    ok: bool
    error: str | None
    elapsed_ms: float


def refused_host(url: str, *, private_remotes: bool) -> str | None:
    """Why the registry does not POST to ``url`` (its host resolves to a private address)."""
    if private_remotes:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    given = parse_address(host)
    if given is not None:
        found = [given]
    else:
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except OSError as exc:
            return f"the webhook's host {host} does not resolve: {exc.strerror or exc}"
        found = [a for a in (parse_address(str(info[4][0])) for info in infos) if a is not None]
    for address in found:
        if not address_allowed(address, private_remotes=False):
            return f"the webhook's host {host} resolves to the private address {address}"
    return None


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed) for ``payload``."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def headers_for(event: str, delivery_id: str, body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "mcpreg-webhook/1",
        "X-Mcpreg-Event": event,
        "X-Mcpreg-Delivery": delivery_id,
        "X-Mcpreg-Signature": sign(secret, body, timestamp),
    }


def deliver(
    url: str,
    event: str,
    payload: dict[str, Any],
    secret: str,
    timeout: float,
    *,
    client: httpx.Client | None = None,
) -> Delivery:
    """POST ``payload`` to ``url`` as event ``event``, signed with ``secret``, within ``timeout`` s.

    ``client`` (optional) lets a caller reuse a connection pool or route in process; without
    it a fresh client is made for this one request.
    """
    delivery_id = str(uuid.uuid4())
    body = body_of(payload)
    headers = headers_for(event, delivery_id, body, secret, int(time.time()))
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    try:
        with contextlib.ExitStack() as stack:
            if client is None:
                client = stack.enter_context(httpx.Client(follow_redirects=False, trust_env=False))
            # Only the status matters: the answer's body is never read (a huge one costs nothing).
            request = client.stream(
                "POST", url, content=body, headers=headers, timeout=timeout, follow_redirects=False
            )
            status = stack.enter_context(request).status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except httpx.TimeoutException:
        error = f"timed out after {timeout:g} s"
    except httpx.HTTPError as exc:
        error = _describe(exc)
    except httpx.InvalidURL as exc:
        error = f"invalid url: {exc}"[:MAX_ERROR_CHARS]
    elapsed_ms = round((time.perf_counter() - started) * 1000.0, 1)
    ok = status is not None and 200 <= status < 300
    log.info(
        "webhook %s delivery %s to %s: %s (%.1f ms)",
        event,
        delivery_id,
        _origin(url),
        status if status is not None else error,
        elapsed_ms,
    )
    return Delivery(delivery_id=delivery_id, status=status, ok=ok, error=error, elapsed_ms=elapsed_ms)


def _describe(exc: httpx.HTTPError) -> str:
    text = "connection failed" if isinstance(exc, httpx.ConnectError) else type(exc).__name__
    detail = str(exc).strip()
    if detail:
        text = f"{text}: {detail}"
    return text[:MAX_ERROR_CHARS]


def _origin(url: str) -> str:
    """The URL without its query or userinfo (a receiver may put a token in either)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return "(invalid url)"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
