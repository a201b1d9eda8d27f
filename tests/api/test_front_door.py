"""The front door (``api.fastpath.front_door.CachedResponses``): what it answers, and what it hands on."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Scope

from mcpreg.api.fastpath.cache import Entry, ResponseCache, answer, etag_for
from mcpreg.api.fastpath.front_door import CachedResponses
from mcpreg.api.http import bytes_response


async def broken(scope: Scope) -> bytes | None:
    raise RuntimeError("a bug in a fast answer")


async def routed(request: Request) -> JSONResponse:
    return JSONResponse({"routed": True})


def app_with(*answers: object) -> Starlette:
    cache = ResponseCache(1 << 20)
    return Starlette(
        routes=[Route("/thing", routed)],
        middleware=[Middleware(CachedResponses, cache=cache, answers=list(answers))],
    )


def get(app: Starlette, path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    return asyncio.run(call())


def test_a_front_door_answer_that_raises_falls_through_to_the_router(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="mcpreg.cache"):
        response = get(app_with(broken), "/thing")
    assert response.status_code == 200
    assert response.json() == {"routed": True}
    assert any("front-door answer broken failed" in r.getMessage() for r in caplog.records)


def test_a_front_door_answer_in_bytes_is_a_plain_json_200() -> None:
    async def fast(scope: Scope) -> bytes | None:
        return b'{"fast":true}'

    response = get(app_with(fast), "/thing")
    assert response.json() == {"fast": True}
    assert response.headers["content-type"] == "application/json"


def test_a_handlers_cacheable_read_has_the_headers_the_cache_gives_the_same_body() -> None:
    body = b'{"name":"x"}'
    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}

    class Settings:
        cache_control = "no-cache"

    class Runtime:
        settings = Settings()

    app = Starlette()
    app.state.runtime = Runtime()
    scope["app"] = app
    handler = bytes_response(Request(scope), body, cacheable=True)
    status, headers, content = answer(Entry(body, etag_for(body)), scope, b"no-cache")
    assert (handler.status_code, handler.raw_headers, handler.body) == (status, headers, content)
    revalidating = {**scope, "headers": [(b"if-none-match", etag_for(body).encode())]}
    assert bytes_response(Request(revalidating), body, cacheable=True).status_code == 304
