"""SSE answers pass through the gateway as they are produced, and a client that goes away
cancels the upstream call (real upstreams on uvicorn; SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.gateway_clients import deploy, gateway_url, legacy_session, release
from tests.support.live import LiveServer
from tests.support.upstreams import Upstream, modern_call, upstreams

WAIT = 10.0  # seconds any one expected event may take, at most


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Upstream]]:
    with upstreams("1.0.0") as started:
        yield started


@pytest.fixture
def echo(running: dict[str, Upstream], api: httpx.Client) -> Upstream:
    upstream = running["1.0.0"]
    upstream.reset()
    release(api, running, "1.0.0")
    deploy(api, "1.0.0")
    yield upstream
    upstream.gate.set()  # nothing left waiting in the upstream


def _slow(steps: int) -> dict[str, object]:
    message = modern_call("slow", {"steps": steps})
    message["json"]["params"]["_meta"]["progressToken"] = "p-1"  # type: ignore[index]
    return message


def test_progress_reaches_the_client_before_the_tool_finishes(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    message = _slow(3)
    with api.stream("POST", gateway_url(live), json=message["json"], headers=message["headers"]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events: list[dict[str, object]] = []
        lines = response.iter_lines()
        for line in lines:
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if len(events) == 3:
                    break
        # three progress notifications read while the tool still waits for its gate
        assert [e["method"] for e in events] == ["notifications/progress"] * 3
        assert echo.started.is_set() and not echo.finished.is_set()
        echo.gate.set()
        rest = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert rest[-1]["result"]["content"][0]["text"] == "done on 1.0.0"  # type: ignore[index]


def test_a_client_that_goes_away_cancels_the_upstream_call(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    message = _slow(1)
    with api.stream("POST", gateway_url(live), json=message["json"], headers=message["headers"]) as response:
        assert response.status_code == 200
        next(line for line in response.iter_lines() if line.startswith("data:"))  # the tool runs
    # the stream is closed here, with the tool still waiting for its gate
    assert echo.cancelled.wait(WAIT), "the upstream call was not cancelled"
    assert not echo.gate.is_set()


def test_a_legacy_client_that_goes_away_cancels_the_upstream_call(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    url = gateway_url(live)
    with legacy_session(url, api.headers["authorization"], "c-1") as session:
        assert session.call("whoami").content  # the session is open
        sealed = session.sessions[0]
        message = {
            "jsonrpc": "2.0",
            "id": 41,
            "method": "tools/call",
            "params": {"name": "slow", "arguments": {"steps": 1}, "_meta": {"progressToken": 7}},
        }
        headers = {
            "mcp-session-id": sealed,
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25",
        }
        with api.stream("POST", url, json=message, headers=headers) as response:
            assert response.status_code == 200
            next(line for line in response.iter_lines() if line.startswith("data:"))
        assert echo.cancelled.wait(WAIT), "the legacy upstream call was not cancelled"
