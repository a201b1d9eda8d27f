"""What the gateway's upstream client (``gateway.connections``) sends and gets back.

``request_head`` writes one HTTP/1.1 request head (``Host`` first, then the given headers,
each refused when it would split the head). An ``UpstreamAnswer`` is one answer as it
arrives on its connection: the status and headers, then the body, which ``read`` waits for
whole and ``next_chunk`` passes on as it comes (an SSE stream). Past ``READ_BUFFER`` unread
bytes of a streamed answer the connection stops reading, so a slow client slows its
upstream instead of filling memory. Every wait for bytes is bounded by the read timeout
(None: a server stream, as long as it takes); a wait that times out or is cancelled closes
the connection, which is how an upstream learns its client went away.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

READ_BUFFER = 256 * 1024  # unread answer bytes held before the upstream is paused
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # what a header name may be (RFC 9110)


class Carrier(Protocol):
    """The connection an answer arrives on (``connections._Connection``)."""

    loop: asyncio.AbstractEventLoop

    def close(self) -> None: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...


class UpstreamUnreachable(Exception):
    """The upstream could not be reached, or its connection broke before the answer ended."""


class UpstreamTimedOut(UpstreamUnreachable):
    """The upstream did not accept a connection, or did not send, within its timeout."""


@dataclass(frozen=True)
class Origin:
    """Where connections go: they are kept and reused per origin."""

    scheme: str
    host: str  # the address or name connected to
    port: int
    server_hostname: str | None = None  # the TLS server name (https only)


@dataclass(frozen=True)
class Endpoint:
    """One upstream URL, ready to send to: its origin, request target and ``Host``."""

    origin: Origin
    target: bytes  # path and query
    host: bytes  # the Host header's value
    authorization: bytes | None = field(default=None, repr=False)  # Basic, from the URL's user info


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float | None  # None: no limit between bytes (a server stream)
    pool: float  # waiting for a free connection when ``max_connections`` are open


def _encoded(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def request_head(
    method: str, endpoint: Endpoint, headers: Iterable[tuple[str, str]], body: bytes | None
) -> bytes:
    """The request line and headers; ``ValueError`` for a header that would split the head."""
    parts = [method.encode("ascii"), b" ", endpoint.target, b" HTTP/1.1\r\nhost: ", endpoint.host, b"\r\n"]
    credentials = endpoint.authorization
    for name, value in headers:
        raw_name, raw_value = _encoded(name), _encoded(value)
        if b"\r" in raw_value or b"\n" in raw_value or b"\0" in raw_value or not _TOKEN.fullmatch(raw_name):
            raise ValueError(f"the header {name!r} cannot be sent (a line break, NUL or bad name)")
        parts += (raw_name, b": ", raw_value, b"\r\n")
        if credentials is not None and raw_name.lower() == b"authorization":
            credentials = None  # a configured Authorization header wins over the URL's user info
    if credentials is not None:
        parts += (b"authorization: ", credentials, b"\r\n")
    if body is not None:
        parts += (b"content-length: ", str(len(body)).encode("ascii"), b"\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


class UpstreamAnswer:
    """One answer as it arrives: status and headers first, then its body."""

    def __init__(self, connection: Carrier, read_timeout: float | None) -> None:
        self._connection = connection
        self._read_timeout = read_timeout
        self.status_code = 0
        self.headers: list[tuple[bytes, bytes]] = []  # as received, names lower-cased
        self._headed = False
        self._interim = False  # a 1xx head, to be followed by the real one
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._pausable = True  # False once the whole body is asked for (``read``)
        self._complete = False
        self._error: UpstreamUnreachable | None = None
        self._waiter: asyncio.Future[None] | None = None

    def header(self, name: bytes) -> str | None:
        """The value of the header ``name`` (lower case), the first if it came more than once."""
        for key, value in self.headers:
            if key == name:
                return value.decode("latin-1")
        return None

    @property
    def complete(self) -> bool:
        return self._complete

    # -- the caller's side ---------------------------------------------------------------

    async def _wait(self) -> None:
        """Until the connection has news (bytes, the end, a failure), or the read timeout."""
        loop = self._connection.loop
        waiter = self._waiter = loop.create_future()
        timer = (
            loop.call_later(self._read_timeout, self._timed_out, waiter)
            if self._read_timeout is not None
            else None
        )
        try:
            await waiter
        except BaseException:
            self._connection.close()  # cancelled, or timed out: this connection is done
            raise
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _timed_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            waiter.set_exception(UpstreamTimedOut("the upstream did not send in time"))

    async def head(self) -> None:
        while not self._headed:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def read(self) -> bytes:
        """The whole body (the answer must be one of known size: the caller checks)."""
        self._pausable = False
        if self._paused:
            self._paused = False
            self._connection.resume()
        while not self._complete:
            if self._error is not None:
                raise self._error
            await self._wait()
        body = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return body

    async def next_chunk(self) -> bytes | None:
        """The next piece of the body as it came; None at its end."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered < READ_BUFFER // 2:
                    self._paused = False
                    self._connection.resume()
                return chunk
            if self._error is not None:
                raise self._error
            if self._complete:
                return None
            await self._wait()

    def aclose(self) -> None:
        """Done with the answer: a connection whose answer did not end is closed, not reused."""
        if not self._complete:
            self._connection.close()

    # -- the connection's side -----------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_head(self, status: int) -> None:
        if 100 <= status < 200 and status != 101:
            self._interim = True
            self.headers = []
            return
        self.status_code = status
        self._headed = True
        self._wake()

    def _on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._pausable and not self._paused and self._buffered > READ_BUFFER:
            self._paused = True
            self._connection.pause()
        self._wake()

    def _on_complete(self) -> bool:
        """The message ended; False for a 1xx head (the answer is still to come)."""
        if self._interim:
            self._interim = False
            return False
        self._complete = True
        if self._paused:  # the rest is held here; the connection reads the next answer
            self._paused = False
            self._connection.resume()
        self._wake()
        return True

    def _fail(self, error: UpstreamUnreachable) -> None:
        if not self._complete and self._error is None:
            self._error = error
        self._wake()

    def _reads_until_close(self) -> bool:
        """A head without a length or chunking: the body is everything until the connection closes."""
        names = {name for name, _ in self.headers}
        return self._headed and b"content-length" not in names and b"transfer-encoding" not in names
