"""The front door: a GET answered from memory before any routing (``CachedResponses``).

An anonymous GET whose key the response cache holds gets what the handler sent when it
filled the entry (or its 304); then each registered answer (``/resolve``'s snapshot,
``latest`` at the door) may answer from its own memos. Everything else, and every error,
goes down the ordinary path: a fast answer that fails falls through to the router.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mcpreg.api.fastpath.cache import JSON_HEADER, Entry, ResponseCache, request_key

log = logging.getLogger("mcpreg.cache")

Answer = Callable[[Scope], Awaitable["Entry | bytes | None"]]
"""A front-door answer: a cacheable entry, the JSON body of a plain 200, or None to route."""


class CachedResponses:
    """ASGI middleware: answer a GET from memory before any routing.

    An anonymous GET whose key is cached gets what the handler sent when it filled the
    entry: the same body and headers, or 304 with the ETag when ``If-None-Match`` names
    it. Then each of ``answers`` (added by feature modules) may answer from its own memos;
    everything else goes down the normal path, which also produces every error.
    """

    def __init__(self, app: ASGIApp, cache: ResponseCache, answers: list[Answer] | None = None) -> None:
        self.app = app
        self.cache = cache
        self.answers = answers if answers is not None else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        key = request_key(scope)
        entry = self.cache.get(key) if key is not None else None
        for from_memory in () if entry is not None else self.answers:
            try:
                answered = await from_memory(scope)
            except Exception:  # a bug in a fast answer: the router answers it, errors included
                log.exception("front-door answer %s failed; routing the request", from_memory.__name__)
                break
            if isinstance(answered, bytes):
                headers = [(b"content-length", str(len(answered)).encode()), JSON_HEADER]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": answered})
                return
            if answered is not None:
                entry = answered
                break
        if entry is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = self.cache.answer(entry, scope)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
