"""Two real upstream MCP servers for the gateway tests: versions 1.0.0 and 1.1.0 of one server.

Each is the SDK's ``MCPServer`` on its streamable-HTTP app, served by a real uvicorn on a
free loopback port (``tests.support.live.LiveServer``). Tools:

* ``whoami``: ``{"version": ..., "headers": {...}}``, the headers the upstream received;
* ``slow(steps)``: reports progress ``steps`` times, then waits (bounded) until the test
  opens ``gate``; records ``started``, ``finished`` (however it ended) and, when the
  request is cancelled, ``cancelled``;
* ``fail``: raises, which the SDK answers as a tool result with ``isError: true``;
* ``ask``: a 2026-07-28 retry chain (``InputRequiredResult`` with a sealed ``requestState``).
* ``forecast(city)``: structured content ``{"city", "sky", "highC"}``, sunny and 21; an
  upstream marked ``wrong`` answers a wrong sky (the test sets' regressed version).

Beside ``/mcp``, ``/fail500`` answers 500 and ``/hang`` answers only when ``gate`` opens.

Every request's headers are kept in ``seen`` too, with its method as ``:method`` (the raw HTTP
requests, not only tools/call).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypedDict

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ElicitRequest, ElicitRequestFormParams, InputRequiredResult
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.support.live import LiveServer

VERSIONS = ("1.0.0", "1.1.0")
GATE_TIMEOUT = 20.0  # seconds a ``slow`` call waits for its gate at most
SHUTDOWN_GRACE = 0.5  # seconds an upstream's open requests get when its module ends


@dataclass
class Upstream:
    """One running upstream and what it has seen."""

    version: str
    url: str = ""
    base: str = ""
    seen: list[dict[str, str]] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)
    wrong: bool = False  # ``forecast`` answers wrongly

    def reset(self) -> None:
        self.seen.clear()
        self.started.clear()
        self.cancelled.clear()
        self.finished.clear()
        self.gate.clear()


class Forecast(TypedDict):
    city: str
    sky: str
    highC: int


class _Recording:
    """ASGI wrapper keeping every HTTP request's headers."""

    def __init__(self, app: ASGIApp, upstream: Upstream) -> None:
        self.app = app
        self.upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            seen = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            self.upstream.seen.append({":method": scope["method"], **seen})
            if scope["path"] == "/fail500":  # an upstream that is up but broken
                await PlainTextResponse("boom", status_code=500)(scope, receive, send)
                return
            if scope["path"] == "/hang":  # an upstream that never answers (until the test ends)
                with anyio.move_on_after(GATE_TIMEOUT):
                    while not self.upstream.gate.is_set():
                        await anyio.sleep(0.01)
                await PlainTextResponse("late", status_code=200)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build(upstream: Upstream) -> ASGIApp:
    server = MCPServer(name="io.github.acme/echo", version=upstream.version)

    @server.tool()
    def whoami(ctx: Context) -> str:
        """This upstream's version and the headers of the request."""
        headers = dict(ctx.headers or {})
        return json.dumps({"version": upstream.version, "headers": headers})

    @server.tool()
    async def slow(steps: int, ctx: Context) -> str:
        """Progress ``steps`` times, then wait for the test's gate."""
        upstream.started.set()
        try:
            for step in range(steps):
                await ctx.report_progress(step + 1, steps, f"step {step + 1}")
            with anyio.fail_after(GATE_TIMEOUT):
                while not upstream.gate.is_set():
                    await anyio.sleep(0.01)
        except anyio.get_cancelled_exc_class():
            upstream.cancelled.set()
            raise
        finally:
            upstream.finished.set()
        return f"done on {upstream.version}"

    @server.tool()
    async def ask(ctx: Context) -> Any:
        """A 2026-07-28 multi-round call: asks for input, answers on the retry.

        The SDK seals ``requestState`` with a key of this process's server, so the retry
        only succeeds on the upstream that asked."""
        if ctx.request_state is None:
            question = ElicitRequestFormParams(
                message="your name?",
                requested_schema={"type": "object", "properties": {"name": {"type": "string"}}},
            )
            return InputRequiredResult(
                input_requests={"name": ElicitRequest(method="elicitation/create", params=question)},
                request_state=f"asked-by-{upstream.version}",
            )
        return f"answered on {upstream.version}: {ctx.request_state}"

    @server.tool()
    def forecast(city: str) -> Forecast:
        """Tomorrow's weather in ``city`` (wrong on an upstream marked ``wrong``)."""
        return Forecast(city=city, sky="hail" if upstream.wrong else "sunny", highC=21)

    @server.tool()
    def fail() -> str:
        """Always fails: a tool result with isError."""
        raise RuntimeError("this tool always fails")

    return _Recording(server.streamable_http_app(), upstream)


@contextmanager
def upstreams(*versions: str) -> Iterator[dict[str, Upstream]]:
    """Start one upstream per version (default both), each on its own uvicorn."""
    with ExitStack() as stack:
        running: dict[str, Upstream] = {}
        for version in versions or VERSIONS:
            upstream = Upstream(version)
            server = LiveServer(build(upstream))
            # open SSE streams (legacy GET streams) do not hold the end of a test module
            server.server.config.timeout_graceful_shutdown = SHUTDOWN_GRACE
            live = stack.enter_context(server)
            upstream.base = live.url
            upstream.url = f"{live.url}/mcp"
            running[version] = upstream
        yield running


def remote_doc(version: str, url: str, **extra: Any) -> dict[str, Any]:
    """A server.json of ``io.github.acme/echo`` whose one remote is ``url``."""
    doc: dict[str, Any] = {
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.github.acme/echo",
        "description": "An echo server behind the gateway",
        "version": version,
        "remotes": [{"type": "streamable-http", "url": url}],
    }
    doc.update(extra)
    return doc


MODERN = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "gateway-tests", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def modern_call(tool: str, arguments: dict[str, Any] | None = None, request_id: int = 1) -> dict[str, Any]:
    """A stateless 2026-07-28 ``tools/call`` as the SDK's client sends it: body and headers."""
    return {
        "json": {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments or {}, "_meta": META},
        },
        "headers": {
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": MODERN,
            "mcp-method": "tools/call",
            "mcp-name": tool,
        },
    }


def tool_text(answer: dict[str, Any]) -> str:
    """The first text of a JSON-RPC tools/call result."""
    return str(answer["result"]["content"][0]["text"])


def sse_messages(text: str) -> list[dict[str, Any]]:
    """The JSON-RPC messages of an SSE body."""
    return [
        json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:") and line[5:].strip()
    ]


def answer_of(response: Any) -> dict[str, Any]:
    """The JSON-RPC response of an httpx response, whether JSON or SSE."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return [m for m in sse_messages(response.text) if "id" in m and "method" not in m][-1]
    return response.json()  # type: ignore[no-any-return]


def retry_of(first: dict[str, Any], tool: str = "ask") -> dict[str, Any]:
    """The retry of a ``tools/call`` that answered ``input_required``: its state and answers."""
    message = modern_call(tool)
    params = message["json"]["params"]
    params["requestState"] = first["result"]["requestState"]
    params["inputResponses"] = {"name": {"action": "accept", "content": {"name": "ada"}}}
    return message
