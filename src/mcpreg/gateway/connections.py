"""The gateway's upstream client: HTTP/1.1 connections kept alive per origin, parsed by httptools.

The gateway sends one request and relays one answer; it needs none of a general client's
layers (redirects, cookies, auth flows, proxies, decoding). ``httpx2`` spent most of the
gateway's time on them: under 64 connections a profile put 45 % of the event loop in its
``send`` (its pool checks every idle connection's socket with a ``select`` per request) and
15 % in closing each response stream. Here a connection is an ``asyncio.Protocol`` whose
bytes go to httptools (the C parser uvicorn uses): the loop tells the pool when an idle
connection is closed by its server, so nothing is polled, and a finished answer hands its
connection back at once.

* ``UpstreamPool.request`` sends one request on an idle connection of its origin (the most
  recently used one), or a new one (at most ``max_connections`` open; beyond that a request
  waits up to ``pool_timeout``), and returns when the answer's head has arrived.
* The answer (``gateway.answers``) is read whole or passed on as it comes.
* Timeouts: ``connect`` for a new connection, ``read`` for each wait for bytes (the head,
  then each chunk; None: wait as long as it takes, a server stream). A timeout closes the
  connection and raises ``UpstreamTimedOut``; a refused or broken connection raises
  ``UpstreamUnreachable``. A connection whose answer is not read to its end (``aclose``,
  a timeout, a cancelled caller) is closed, never reused; one idle longer than
  ``IDLE_SECONDS`` is closed rather than reused (a server may be closing it just then).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any, cast

import httptools

from mcpreg.gateway.answers import (
    Endpoint,
    Origin,
    Timeouts,
    UpstreamAnswer,
    UpstreamTimedOut,
    UpstreamUnreachable,
    request_head,
)

IDLE_SECONDS = 4.0  # an idle connection older than this is closed, not reused (uvicorn closes at 5)


class _Connection(asyncio.Protocol):
    """One upstream connection: at most one answer at a time."""

    def __init__(self, pool: UpstreamPool, origin: Origin, loop: asyncio.AbstractEventLoop) -> None:
        self.pool = pool
        self.origin = origin
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.answer: UpstreamAnswer | None = None
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)

    # -- the pool's side -----------------------------------------------------------------

    def send(self, head: bytes, body: bytes | None, read_timeout: float | None) -> UpstreamAnswer:
        assert self.transport is not None and self.answer is None
        answer = self.answer = UpstreamAnswer(self, read_timeout)
        self.transport.write(head + body if body else head)
        return answer

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.pool._forget(self)
            if self.transport is not None:
                self.transport.close()
        if self.answer is not None:
            self.answer._fail(UpstreamUnreachable("the upstream connection was closed"))

    def pause(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        if self.answer is None:  # bytes nobody asked for: this connection cannot be trusted
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            answer = self.answer
            if answer is not None:
                answer._fail(UpstreamUnreachable(f"the upstream's answer is not HTTP/1.1 ({exc})"))
            self.close()

    def eof_received(self) -> bool | None:
        return None  # the transport closes; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        answer = self.answer
        if answer is not None and not answer.complete and answer._reads_until_close():
            answer._on_complete()
        self.closed = True
        self.pool._forget(self)
        if answer is not None:
            answer._fail(UpstreamUnreachable("the upstream closed the connection"))

    # -- httptools callbacks -------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        answer = self.answer
        if answer is None:
            raise UpstreamUnreachable("an answer nobody asked for")
        answer.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        if self.answer is not None:
            self.answer._on_head(self._parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        if self.answer is not None:
            self.answer._on_body(body)

    def on_message_complete(self) -> None:
        answer = self.answer
        if answer is None or not answer._on_complete():
            return
        self.answer = None
        if self._parser.should_keep_alive() and not self.closed:
            self.pool._release(self)
        else:
            self.close()


class UpstreamPool:
    """Kept-alive upstream connections of one replica."""

    def __init__(self, *, max_connections: int, max_idle: int, tls: ssl.SSLContext | None = None) -> None:
        self.max_connections = max_connections
        self.max_idle = max_idle
        self._tls = tls
        self._idle: dict[Origin, list[_Connection]] = {}
        self._idle_count = 0
        self._open: set[_Connection] = set()
        self._waiting: deque[asyncio.Future[None]] = deque()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            try:
                import certifi  # what httpx verified against: the same roots

                self._tls = ssl.create_default_context(cafile=certifi.where())
            except ImportError:  # pragma: no cover - certifi comes with httpx
                self._tls = ssl.create_default_context()
            self._tls.set_alpn_protocols(["http/1.1"])
        return self._tls

    async def request(
        self,
        method: str,
        endpoint: Endpoint,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        timeouts: Timeouts,
    ) -> UpstreamAnswer:
        """Send one request; the answer once its head has arrived."""
        try:
            head = request_head(method, endpoint, headers, body)
        except ValueError as exc:
            raise UpstreamUnreachable(str(exc)) from None
        loop = asyncio.get_running_loop()
        connection = await self._connection(endpoint.origin, loop, timeouts)
        answer = connection.send(head, body, timeouts.read)
        await answer.head()
        return answer

    def _take_idle(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            self._idle_count -= 1
            if connection.loop is not loop:  # an app served by an earlier loop: drop it
                self._open.discard(connection)
                continue
            if connection.closed:
                continue
            if loop.time() - connection.idle_since > IDLE_SECONDS:
                connection.close()
                continue
            return connection
        return None

    async def _connection(
        self, origin: Origin, loop: asyncio.AbstractEventLoop, timeouts: Timeouts
    ) -> _Connection:
        """An idle connection to ``origin``, else a new one once fewer than the most are open."""
        deadline = loop.time() + timeouts.pool
        while True:
            idle = self._take_idle(origin, loop)
            if idle is not None:
                return idle
            if len(self._open) < self.max_connections or self._close_one_idle():
                return await self._connect(origin, loop, timeouts)
            await self._wait_for_room(loop, deadline - loop.time())

    async def _connect(
        self, origin: Origin, loop: asyncio.AbstractEventLoop, timeouts: Timeouts
    ) -> _Connection:
        connection = _Connection(self, origin, loop)
        self._open.add(connection)
        tls = self._tls_context() if origin.scheme == "https" else None
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: connection,
                    origin.host,
                    origin.port,
                    ssl=tls,
                    server_hostname=(origin.server_hostname or origin.host) if tls is not None else None,
                ),
                timeouts.connect,
            )
        except TimeoutError:
            connection.close()
            raise UpstreamTimedOut("the upstream did not accept a connection in time") from None
        except OSError as exc:  # refused, unreachable, TLS failures (ssl.SSLError is one)
            connection.close()
            raise UpstreamUnreachable(f"the upstream could not be reached ({type(exc).__name__})") from None
        except BaseException:
            connection.close()
            raise
        return connection

    def _close_one_idle(self) -> bool:
        for idle in self._idle.values():
            while idle:
                connection = idle.pop(0)
                self._idle_count -= 1
                if not connection.closed:
                    connection.close()
                    return True
        return False

    async def _wait_for_room(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        if timeout <= 0:
            raise UpstreamTimedOut("no upstream connection was free in time")
        room = loop.create_future()
        self._waiting.append(room)
        try:
            await asyncio.wait_for(room, timeout)
        except TimeoutError:
            raise UpstreamTimedOut("no upstream connection was free in time") from None
        finally:
            if room in self._waiting:
                self._waiting.remove(room)

    def _release(self, connection: _Connection) -> None:
        """A connection whose answer ended, kept for the next request to its origin."""
        if self._idle_count >= self.max_idle:
            connection.close()
            return
        connection.idle_since = connection.loop.time()
        self._idle.setdefault(connection.origin, []).append(connection)
        self._idle_count += 1
        self._make_room()

    def _forget(self, connection: _Connection) -> None:
        """A closed connection (the pool's, the server's or a failure's doing)."""
        if connection in self._open:
            self._open.discard(connection)
            idle = self._idle.get(connection.origin)
            if idle and connection in idle:
                idle.remove(connection)
                self._idle_count -= 1
            self._make_room()

    def _make_room(self) -> None:
        while self._waiting:
            room = self._waiting.popleft()
            if not room.done():
                room.set_result(None)
                return

    async def aclose(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._idle.clear()
        self._idle_count = 0

    async def __aenter__(self) -> UpstreamPool:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
