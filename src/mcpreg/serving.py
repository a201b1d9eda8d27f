"""How ``mcpreg serve`` runs the app on uvicorn: one ``uvicorn.Config`` and a connection guard.

uvicorn closes a keep-alive connection that stays idle after a response
(``timeout_keep_alive``), but nothing bounds a connection that never sends a request, or
one that sends a request line and headers a byte at a time (slowloris): each holds a
file descriptor for as long as the client likes. ``GuardedHttpToolsProtocol`` gives every
connection a header deadline: from accept (or from the first byte of the next request
on a kept-alive connection) it has ``MCPREG_HEADER_TIMEOUT`` seconds to finish the request
line and headers, and a head still unfinished after ``MAX_HEADER_BYTES`` is refused. A
request that does not make it is answered ``408`` (or ``431``) and closed; a connection
that never sent a byte is just closed. Bodies and responses are not bounded here.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mcpreg.settings import Settings

__all__ = ["MAX_HEADER_BYTES", "GuardedHttpToolsProtocol", "guarded_protocol", "uvicorn_config"]

MAX_HEADER_BYTES = 64 * 1024
"""How much of an unfinished request head is buffered before 431 (h11's default is 16 KiB).

Counted over the reads that leave the head unfinished, so a larger head that arrives whole
in one read passes: the bound is on what a slow client can make the server hold."""


def _reply_and_close(transport: asyncio.Transport, status: bytes) -> None:
    transport.write(
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(status)).encode() + b"\r\nconnection: close\r\n\r\n" + status
    )
    transport.close()


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size bound on reading headers."""

    header_timeout: float = 10.0
    keepalive_timeout: float = 5.0
    max_header_bytes: int = MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.keepalive_timeout  # type: ignore[assignment]  # float seconds
        self._header_deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._in_body = False

    # -- the deadline ------------------------------------------------------------------

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._header_deadline_passed)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        self._header_bytes = 0

    def _header_deadline_passed(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        if self._header_bytes:
            self.logger.info("closing a connection that did not finish its request headers in time")
            _reply_and_close(self.transport, b"408 Request Timeout")
        else:
            self.transport.close()

    def _waiting_for_headers(self) -> bool:
        """No request is being read or answered: the next bytes are (part of) a request head."""
        return not self._in_body and (self.cycle is None or self.cycle.response_complete)

    # -- the protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.parser is None or self.transport.is_closing() or not self._waiting_for_headers():
            return
        # Only a request head split across reads gets here (a whole one in one read does not).
        self._header_bytes += len(data)
        if self._header_bytes > self.max_header_bytes:
            self._disarm_header_deadline()
            _reply_and_close(self.transport, b"431 Request Header Fields Too Large")
            return
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        self._in_body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        super().on_message_complete()


def guarded_protocol(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with this process's timeouts."""

    class ConfiguredHttpProtocol(GuardedHttpToolsProtocol):
        header_timeout = settings.header_timeout
        keepalive_timeout = settings.keepalive_timeout

    return ConfiguredHttpProtocol


def uvicorn_config(app: Any, settings: Settings, *, host: str, port: int, log_level: str) -> uvicorn.Config:
    """The one uvicorn configuration ``mcpreg serve`` runs with."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=settings.access_log,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,  # None: uvicorn's default, 127.0.0.1
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout) or None,
        server_header=False,
        http=guarded_protocol(settings),
        timeout_keep_alive=max(1, math.ceil(settings.keepalive_timeout)),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )
