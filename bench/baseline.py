"""The two baselines: pre-rendered bytes on mcpreg's URLs, as bare Starlette and as raw ASGI.

Run as ``python -m bench.baseline --app starlette|raw --port P --bodies FILE [--loop L]
[--http H]``; ``FILE`` is JSON mapping a scenario (``list``, ``detail``, ``resolve``,
``publish``) to ``{"status": int, "body_b64": str, "etag": str | null, "headers": [[k, v]]}``,
captured from the real service so the sizes and headers match. A request carrying
``If-None-Match`` gets ``304`` with the ETag, as mcpreg does. The list sample is captured
as mcpreg sends it to the list scenario's ``Accept-Encoding: gzip``: the gzip bytes with
their ``Content-Encoding``, ``Vary`` and ETag, replayed to every request (the scenario
always asks for gzip), so both sides send the same bytes.

``starlette`` is a do-nothing Starlette app (routing, a ``Request`` and a ``Response`` per
request): what a framework handler costs. ``raw`` is a plain ASGI callable that matches the
path by prefix and sends the same bytes and headers: the most this uvicorn loop and parser
serve on this machine, and the ceiling against which the harness checks that the load
generator is not what limits every target.
"""

from __future__ import annotations

import argparse
import base64
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCENARIOS = ("list", "detail", "resolve", "publish")
APPS = ("starlette", "raw")
HEALTH = b'{"status":"ok"}'

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Canned:
    """One pre-rendered response and the headers mcpreg sent with it."""

    status: int
    body: bytes
    etag: str | None
    extra: tuple[tuple[str, str], ...] = ()

    def headers(self) -> dict[str, str]:
        """Everything but ``content-type`` (Starlette sets that from ``media_type``)."""
        out = {k: v for k, v in self.extra if k != "content-type"}
        if self.etag:
            out["etag"] = self.etag
        return out

    def not_modified_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers().items() if k in ("etag", "cache-control", "vary")}

    @property
    def media_type(self) -> str:
        return dict(self.extra).get("content-type", "application/json")

    def raw_headers(self, *, not_modified: bool = False) -> list[tuple[bytes, bytes]]:
        """The same headers as the Starlette response sends, as raw ASGI pairs."""
        if not_modified:
            return [(k.encode(), v.encode()) for k, v in self.not_modified_headers().items()]
        pairs = [("content-length", str(len(self.body))), ("content-type", self.media_type)]
        return [(k.encode(), v.encode()) for k, v in [*pairs, *self.headers().items()]]


def load_bodies(path: Path) -> dict[str, Canned]:
    raw = json.loads(path.read_text())
    bodies = {
        key: Canned(
            int(v["status"]),
            base64.b64decode(v["body_b64"]),
            v.get("etag"),
            tuple((str(k).lower(), str(h)) for k, h in v.get("headers", [])),
        )
        for key, v in raw.items()
    }
    for key in SCENARIOS:
        bodies.setdefault(key, Canned(200, b"{}", None))
    return bodies


def build_app(bodies: dict[str, Canned]) -> Starlette:
    """The Starlette baseline: one route per mcpreg scenario, each answering its canned bytes."""

    def canned(key: str, request: Request) -> Response:
        item = bodies[key]
        if "if-none-match" in request.headers and key in ("list", "detail"):
            return Response(status_code=304, headers=item.not_modified_headers())
        return Response(
            item.body, status_code=item.status, media_type=item.media_type, headers=item.headers()
        )

    async def servers(request: Request) -> Response:
        return canned("list", request)

    async def detail(request: Request) -> Response:
        return canned("detail", request)

    async def resolve(request: Request) -> Response:
        return canned("resolve", request)

    async def publish(request: Request) -> Response:
        await request.body()
        return canned("publish", request)

    async def health(request: Request) -> Response:
        return Response(HEALTH, media_type="application/json")

    return Starlette(
        routes=[
            Route("/v0.1/health", health),
            Route("/v0.1/servers", servers),
            Route("/v0.1/servers/{name:path}/versions/latest", detail),
            Route("/api/environments/{env}/servers/{name:path}/resolve", resolve),
            Route("/v0.1/publish", publish, methods=["POST"]),
        ]
    )


def build_raw_app(bodies: dict[str, Canned]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The raw ASGI baseline: the same answers as ``build_app`` with no framework at all."""
    health = Canned(200, HEALTH, None)

    def pick(path: str) -> tuple[str, Canned]:
        if path == "/v0.1/health":
            return "health", health
        if path == "/v0.1/servers":
            return "list", bodies["list"]
        if path.startswith("/v0.1/servers/") and path.endswith("/versions/latest"):
            return "detail", bodies["detail"]
        if path.startswith("/api/environments/") and path.endswith("/resolve"):
            return "resolve", bodies["resolve"]
        return "publish", bodies["publish"]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        key, item = pick(scope["path"])
        if scope["method"] == "POST":
            while (await receive()).get("more_body"):
                pass
        revalidate = key in ("list", "detail") and any(k == b"if-none-match" for k, _ in scope["headers"])
        status = 304 if revalidate else item.status
        headers = item.raw_headers(not_modified=revalidate)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if revalidate else item.body})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--app", choices=APPS, default="starlette")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--http", default="auto")
    args = parser.parse_args()
    bodies = load_bodies(args.bodies)
    app = build_raw_app(bodies) if args.app == "raw" else build_app(bodies)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop=args.loop,
        http=args.http,
        workers=None,
        access_log=False,
        log_level="warning",
        proxy_headers=True,
        server_header=False,
    )


if __name__ == "__main__":
    main()
