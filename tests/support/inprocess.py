"""The real app in process: its lifespan run once, sync ``httpx`` clients over ``ASGITransport``.

``InProcess(app)`` runs the app's ASGI lifespan (migrate, seed, the background loops) on an
event loop in one worker thread (an anyio blocking portal), as uvicorn would, and hands out
``httpx.Client`` objects whose requests go straight into the app on that loop: no socket,
no port, no uvicorn. Every client of one ``InProcess`` talks to the same app, so an admin and
an anonymous client see one registry, one response cache, one set of background loops.

What it cannot stand in for: ``ASGITransport`` buffers each response whole, so streaming,
long-polls that a test interrupts, timeouts, keep-alive and anything about connections or
bytes on the wire stay on ``tests.support.live.LiveServer``. An exception that escapes the app
becomes the 500 a real server would send (``raise_app_exceptions=False``), as it does on
``live``.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

BASE_URL = "http://testserver"
LIFESPAN_TIMEOUT = 60.0


class _Lifespan:
    """The ASGI lifespan protocol, driven from the portal's loop; keeps the app's state."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._to_app, self._app_inbox = anyio.create_memory_object_stream[dict[str, Any]](4)
        self._app_outbox, self._from_app = anyio.create_memory_object_stream[dict[str, Any]](4)

    async def run(self) -> None:
        async def receive() -> dict[str, Any]:
            return await self._app_inbox.receive()

        async def send(message: dict[str, Any]) -> None:
            await self._app_outbox.send(message)

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        try:
            await self.app(scope, receive, send)
        except BaseException as exc:  # tell the waiting step at once instead of letting it time out
            with anyio.CancelScope(shield=True):
                await self._app_outbox.send({"type": "lifespan.crashed", "message": repr(exc)})
            raise

    async def _step(self, event: str) -> None:
        await self._to_app.send({"type": f"lifespan.{event}"})
        with anyio.fail_after(LIFESPAN_TIMEOUT):
            reply = await self._from_app.receive()
        if reply["type"] != f"lifespan.{event}.complete":
            raise RuntimeError(f"the app's lifespan {event} failed: {reply.get('message', reply)}")

    async def startup(self) -> None:
        await self._step("startup")

    async def shutdown(self) -> None:
        await self._step("shutdown")


class _Chunks(httpx.AsyncByteStream):
    """A sync request body (an iterator of chunks: chunked encoding) as the async one ASGI reads."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


class _PortalTransport(httpx.BaseTransport):
    """A sync transport: each request runs through ``ASGITransport`` on the portal's loop."""

    def __init__(self, portal: BlockingPortal, app: Any) -> None:
        self._portal = portal
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            request.stream = _Chunks(request.stream)
        return self._portal.call(self._handle, request)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])  # as sent: still encoded
        await response.aclose()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
        )


class InProcess:
    """One app in process, started (lifespan) on enter and stopped on exit."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._stack = ExitStack()
        self._lifespan = _Lifespan(app)
        self._portal: BlockingPortal | None = None
        self.url = BASE_URL

    def __enter__(self) -> InProcess:
        try:
            self._portal = self._stack.enter_context(start_blocking_portal())
            self._portal.start_task_soon(self._lifespan.run)
            self._portal.call(self._lifespan.startup)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._portal is not None:
                self._portal.call(self._lifespan.shutdown)
        finally:
            self._stack.close()

    def _with_state(self) -> Any:
        """The app, with the lifespan's state copied into each request's scope (as servers do)."""
        app, state = self.app, self._lifespan.state

        async def with_state(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await app({**scope, "state": copy.copy(state)}, receive, send)

        return with_state

    def transport(self) -> httpx.BaseTransport:
        """A sync transport into this app, for any client that takes one (``mcpreg.client``)."""
        if self._portal is None:
            raise RuntimeError("enter the InProcess before asking it for a transport")
        return _PortalTransport(self._portal, self._with_state())

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        """A new client on this app; ``token`` goes in ``Authorization: Bearer``."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(
            transport=self.transport(),
            base_url=self.url,
            headers=headers,
            timeout=kwargs.pop("timeout", 30),
            **kwargs,
        )

    @contextmanager
    def session(self, token: str | None = None, **kwargs: Any) -> Iterator[httpx.Client]:
        """``client`` as a context manager that closes it."""
        with self.client(token, **kwargs) as client:
            yield client
