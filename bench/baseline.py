"""A bare Starlette app serving pre-rendered bytes on mcpreg's URLs: the ceiling for each scenario.

Run as ``python -m bench.baseline --port P --bodies FILE [--loop L] [--http H]``; ``FILE`` is
JSON mapping a scenario (``list``, ``detail``, ``resolve``, ``publish``) to
``{"status": int, "body_b64": str, "etag": str | null}``, captured from the real service so the
sizes match. A request carrying ``If-None-Match`` gets ``304`` with the ETag, as mcpreg does.
"""

from __future__ import annotations

import argparse
import base64
import json
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SCENARIOS = ("list", "detail", "resolve", "publish")


@dataclass(frozen=True)
class Canned:
    """One pre-rendered response."""

    status: int
    body: bytes
    etag: str | None

    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag} if self.etag else {}


def load_bodies(path: Path) -> dict[str, Canned]:
    raw = json.loads(path.read_text())
    bodies = {
        key: Canned(int(v["status"]), base64.b64decode(v["body_b64"]), v.get("etag"))
        for key, v in raw.items()
    }
    for key in SCENARIOS:
        bodies.setdefault(key, Canned(200, b"{}", None))
    return bodies


def build_app(bodies: dict[str, Canned]) -> Starlette:
    """The app: one route per mcpreg scenario, each answering its canned bytes."""

    def canned(key: str) -> Response:
        item = bodies[key]
        return Response(
            item.body, status_code=item.status, media_type="application/json", headers=item.headers()
        )

    async def servers(request: Request) -> Response:
        if "if-none-match" in request.headers:
            return Response(status_code=304, headers=bodies["list"].headers())
        return canned("list")

    async def detail(request: Request) -> Response:
        if "if-none-match" in request.headers:
            return Response(status_code=304, headers=bodies["detail"].headers())
        return canned("detail")

    async def resolve(request: Request) -> Response:
        return canned("resolve")

    async def publish(request: Request) -> Response:
        await request.body()
        return canned("publish")

    async def health(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return Starlette(
        routes=[
            Route("/v0.1/health", health),
            Route("/v0.1/servers", servers),
            Route("/v0.1/servers/{name:path}/versions/latest", detail),
            Route("/api/environments/{env}/servers/{name:path}/resolve", resolve),
            Route("/v0.1/publish", publish, methods=["POST"]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--loop", default="auto")
    parser.add_argument("--http", default="auto")
    args = parser.parse_args()
    app = build_app(load_bodies(args.bodies))
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
