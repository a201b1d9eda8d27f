"""An upstream that refuses, fails or hangs gives its clients the documented error while the
other version keeps serving; a release the gateway cannot reach is a 409 naming it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS, publish, server_doc
from tests.support.gateway_clients import NAME, call, deploy, gateway_url, release, whoami_version
from tests.support.live import LiveServer
from tests.support.served import free_port
from tests.support.upstreams import Upstream, remote_doc, upstreams

GATEWAY_TIMEOUT = "0.5"
WAIT = 5.0  # seconds a test's own upstream thread gets to stop


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Upstream]]:
    with upstreams("1.0.0") as started:
        yield started


@pytest.fixture
def echo(running: dict[str, Upstream]) -> Iterator[Upstream]:
    upstream = running["1.0.0"]
    upstream.reset()
    yield upstream
    upstream.gate.set()


@pytest.fixture
def impatient(database_url: str, tmp_path: Path, engine: sa.Engine) -> Iterator[LiveServer]:
    """A replica whose gateway waits ``GATEWAY_TIMEOUT`` seconds for an upstream."""
    settings = Settings.from_env(
        {
            "MCPREG_DATABASE_URL": database_url,
            "MCPREG_DATA_DIR": str(tmp_path / "impatient"),
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_DEV": "1",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
            "MCPREG_GATEWAY_TIMEOUT": GATEWAY_TIMEOUT,
        }
    )
    with LiveServer(create_app(settings, engine, prepare=False)) as server:
        yield server


def _canary_on(api: httpx.Client, echo: Upstream, canary_url: str) -> None:
    """1.0.0 stable on ``echo``; 1.1.0 a 50% canary whose remote is ``canary_url``."""
    release(api, {"1.0.0": echo}, "1.0.0")
    publish(api, remote_doc("1.1.0", canary_url))
    deploy(api, "1.0.0")
    deploy(api, "1.1.0", strategy="canary", weight=50)


def _clients_on(api: httpx.Client, track: str, count: int = 3) -> list[str]:
    target = f"/api/environments/production/servers/{NAME}/resolve"
    found = [
        c
        for c in (f"k-{i}" for i in range(100))
        if api.get(target, params={"client": c}).json()["track"] == track
    ]
    return found[:count]


def _jsonrpc_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == 1
    assert body["error"]["data"]["code"] == code


def test_an_upstream_that_refuses_gives_a_jsonrpc_error_while_stable_serves(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    _canary_on(api, echo, f"http://127.0.0.1:{free_port()}/mcp")  # nothing listens there
    url = gateway_url(live)
    for client in _clients_on(api, "canary"):
        _jsonrpc_error(call(api, url, key=client), 502, "upstream_refused")
    for client in _clients_on(api, "stable"):
        assert whoami_version(api, url, client) == "1.0.0"
    # without a JSON-RPC request to answer (a GET stream), the error is problem+json
    down = _clients_on(api, "canary", 1)[0]
    refused = api.get(url, headers={"x-client-id": down, "accept": "text/event-stream"})
    assert refused.status_code == 502
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "upstream_refused"


def test_an_upstream_5xx_is_a_jsonrpc_error_of_its_own(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    _canary_on(api, echo, f"{echo.base}/fail500")
    url = gateway_url(live)
    for client in _clients_on(api, "canary", 2):
        _jsonrpc_error(call(api, url, key=client), 502, "upstream_5xx")
    assert whoami_version(api, url, _clients_on(api, "stable", 1)[0]) == "1.0.0"


@contextmanager
def answers_cut_off() -> Iterator[str]:
    """A loopback upstream that reads each request, sends the head of a JSON answer and the
    first byte of its body, and closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # the listener was closed: the test is over
                return
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(body) < length:
                    body += connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/mcp"
    finally:
        listener.close()
        thread.join(WAIT)


def test_an_upstream_that_breaks_off_inside_a_json_answer_gives_a_jsonrpc_error(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    with answers_cut_off() as cutting:
        _canary_on(api, echo, cutting)
        url = gateway_url(live)
        _jsonrpc_error(call(api, url, key=_clients_on(api, "canary", 1)[0]), 502, "upstream_refused")
        assert whoami_version(api, url, _clients_on(api, "stable", 1)[0]) == "1.0.0"


def test_an_upstream_that_hangs_times_out_with_504(
    api: httpx.Client, impatient: LiveServer, echo: Upstream
) -> None:
    _canary_on(api, echo, f"{echo.base}/hang")
    url = gateway_url(impatient)
    _jsonrpc_error(call(api, url, key=_clients_on(api, "canary", 1)[0]), 504, "upstream_timeout")
    assert whoami_version(api, url, _clients_on(api, "stable", 1)[0]) == "1.0.0"


def test_a_release_without_a_streamable_http_remote_is_a_409_naming_it(
    api: httpx.Client, live: LiveServer
) -> None:
    publish(api, server_doc(name=NAME, version="2.0.0"))  # a stdio package only
    deploy(api, "2.0.0")
    refused = call(api, gateway_url(live), key="c-1")
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_streamable_remote"
    assert refused.json()["release"] == f"{NAME}@2.0.0"


def test_nothing_deployed_is_a_404_and_the_gateway_stays_up(api: httpx.Client, live: LiveServer) -> None:
    missing = call(api, gateway_url(live, name="io.github.acme/nothing"), key="c-1")
    assert missing.status_code == 404 and missing.json()["code"] in ("server_not_found", "no_deployment")
    assert api.get("/v0.1/health").status_code == 200


def test_a_body_over_the_limit_is_refused_before_it_reaches_the_upstream(
    api: httpx.Client, live: LiveServer, echo: Upstream
) -> None:
    release(api, {"1.0.0": echo}, "1.0.0")
    deploy(api, "1.0.0")
    huge = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "whoami", "arguments": {"x": "a" * 1_100_000}},
    }
    refused = api.post(
        gateway_url(live), json=huge, headers={"accept": "application/json, text/event-stream"}
    )
    assert refused.status_code == 413 and refused.json()["code"] == "payload_too_large"
    assert echo.seen == []
