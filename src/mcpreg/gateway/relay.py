"""Relaying an upstream's answer to the client, and counting it when it ends.

``whole`` answers with one response: for an answer that ``readable_whole`` finds small, of
known length and not an event stream (a JSON ``tools/call`` answer), read at once; it is
counted as soon as it is read.

``Relay`` is the response of a proxied request: each chunk the upstream sends is passed on
at once (an SSE stream is never buffered; a tool's progress reaches the client before the
tool finishes). While it streams, the client's side is watched: when the client goes away
the upstream response is closed, which closes its connection, and the upstream's SDK
cancels the request (2026-07-28: closing the stream is the cancellation); for a legacy
session ``notifications/cancelled`` is sent to the upstream as well, as that protocol asks.

When the answer has ended (or was cut), its outcome (``gateway.outcome``) and duration are
handed to the metrics, once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from mcpreg.gateway.answers import UpstreamAnswer, UpstreamTimedOut, UpstreamUnreachable
from mcpreg.gateway.metrics import Observation
from mcpreg.gateway.outcome import Outcome, SseReader, of_json, of_status
from mcpreg.gateway.upstream import Upstream

log = logging.getLogger("mcpreg.gateway")

MAX_JSON_READ = 1024 * 1024  # a JSON answer larger than this is passed on but not read
MAX_WHOLE = MAX_JSON_READ  # an answer of known length up to this is read whole and sent at once
CANCEL_NOTICE_TIMEOUT = 5.0  # seconds the upstream gets to take a cancellation notice


@dataclass
class Exchange:
    """One proxied request: who it was for and where it went."""

    server: str
    environment: str
    upstream: Upstream
    method: str
    started: float
    session: str | None  # mcpreg's session id (legacy), None for a stateless request
    initialize: bool
    key: str | None

    def observation(self, outcome: Outcome, seconds: float) -> Observation:
        session = hashlib.sha256(self.session.encode()).hexdigest()[:32] if self.session else None
        up = self.upstream
        return Observation(
            server=self.server,
            environment=self.environment,
            version=up.version,
            track=up.track,
            method=self.method,
            outcome=outcome,
            seconds=seconds,
            session=session,
        )


def readable_whole(answer: UpstreamAnswer) -> bool:
    """Whether ``answer`` is sent as one response: not an event stream, and of known length
    up to ``MAX_WHOLE`` (or already complete)."""
    if (answer.header(b"content-type") or "").lower().startswith("text/event-stream"):
        return False
    if answer.complete:
        return True
    length = answer.header(b"content-length")
    return length is not None and length.isdigit() and int(length) <= MAX_WHOLE


def whole(
    observe: Callable[[Observation], None],
    exchange: Exchange,
    answer: UpstreamAnswer,
    body: bytes,
    headers: dict[str, str],
) -> Response:
    """The response of an answer read whole, counted now (its outcome read from ``body``)."""
    outcome = of_status(answer.status_code)
    if outcome is None:
        content_type = (answer.header(b"content-type") or "").lower()
        outcome = of_json(body) if content_type.startswith("application/json") else "ok"
    observe(exchange.observation(outcome, time.perf_counter() - exchange.started))
    return Response(body, status_code=answer.status_code, headers=headers)


class _Reading:
    """The outcome of a body, read as it passes."""

    def __init__(self, response: UpstreamAnswer) -> None:
        decided = of_status(response.status_code)
        content_type = (response.header(b"content-type") or "").lower()
        self._decided = decided
        self._sse = SseReader() if decided is None and content_type.startswith("text/event-stream") else None
        self._json: list[bytes] | None = (
            []
            if decided is None and self._sse is None and content_type.startswith("application/json")
            else None
        )
        self._size = 0

    def feed(self, chunk: bytes) -> None:
        if self._sse is not None:
            self._sse.feed(chunk)
        elif self._json is not None:
            self._size += len(chunk)
            if self._size > MAX_JSON_READ:
                self._json = None
            else:
                self._json.append(chunk)

    def outcome(self) -> Outcome:
        if self._decided is not None:
            return self._decided
        if self._sse is not None:
            return self._sse.close()
        return of_json(b"".join(self._json)) if self._json is not None else "ok"


class Relay(Response):
    """Streams ``upstream`` to the client; reports the exchange to ``observe`` when it ends."""

    def __init__(
        self,
        observe: Callable[[Observation], None],
        exchange: Exchange,
        upstream: UpstreamAnswer,
        headers: dict[str, str],
        on_disconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.observe = observe
        self.exchange = exchange
        self.upstream = upstream
        self.status_code = upstream.status_code
        self.background = None
        self.body = b""
        self.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        self.on_disconnect = on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reading = _Reading(self.upstream)
        outcome: Outcome | None = None
        disconnected = False
        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    nonlocal disconnected
                    while True:
                        message: Message = await receive()
                        if message["type"] == "http.disconnect":
                            disconnected = True
                            group.cancel_scope.cancel()
                            return

                group.start_soon(watch)
                try:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": self.status_code,
                            "headers": self.raw_headers,
                        }
                    )
                    while (chunk := await self.upstream.next_chunk()) is not None:
                        reading.feed(chunk)
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except UpstreamTimedOut:
                    outcome = "timeout"
                    await _end(send)
                except UpstreamUnreachable:
                    outcome = "refused"
                    await _end(send)
                except OSError:
                    disconnected = True
                group.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                self.upstream.aclose()
                if disconnected and self.on_disconnect is not None:
                    try:
                        with anyio.move_on_after(CANCEL_NOTICE_TIMEOUT):  # never holds the response
                            await self.on_disconnect()
                    except Exception:
                        log.exception("could not tell %s that its client went away", self.exchange.server)
                seconds = time.perf_counter() - self.exchange.started
                self.observe(self.exchange.observation(outcome or reading.outcome(), seconds))


async def _end(send: Send) -> None:
    """End a response whose upstream broke off (the client sees a short stream, not a hang)."""
    with contextlib.suppress(OSError):  # the client went away too: nothing left to end
        await send({"type": "http.response.body", "body": b"", "more_body": False})
