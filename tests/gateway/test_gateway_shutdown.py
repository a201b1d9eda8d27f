"""SIGTERM to a real ``mcpreg serve`` under gateway load and during an open gateway stream:
no request fails, the stream completes (the tool's answer arrives after the signal) and the
process exits 0 (issue 15)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import TEST_KEYS, make_token, publish
from tests.support.gateway_clients import DEPLOY, ENV, NAME
from tests.support.load import Load
from tests.support.served import MCPREG, free_port
from tests.support.upstreams import Upstream, modern_call, remote_doc, upstreams
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
START = 60.0  # seconds the replica may take to become ready


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with upstreams("1.0.0") as started:
        yield started["1.0.0"]
        started["1.0.0"].gate.set()


# One backend: the stream holds no database connection once its target is known, and starting
# ``mcpreg serve`` is most of this test's time (the PostgreSQL half of shutdown is
# tests/api/test_shutdown.py's).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sigterm_during_an_open_gateway_stream_lets_it_finish_and_exits_zero(
    database_url: str, tmp_path: Path, engine: sa.Engine, upstream: Upstream
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    env.update(
        MCPREG_DATABASE_URL=database_url,
        MCPREG_DATA_DIR=str(tmp_path / "data"),
        MCPREG_SECRET_KEYS=TEST_KEYS,
        MCPREG_SAMPLE_DATA="0",
        MCPREG_ACCESS_LOG="0",
        MCPREG_ALLOW_PRIVATE_REMOTES="1",
        MCPREG_SHUTDOWN_DRAIN="1.5",
        MCPREG_SHUTDOWN_TIMEOUT="15",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [MCPREG, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "info"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: process.poll() is not None or _ready(url), START, "the replica to be ready")
        assert process.poll() is None, log.read_text()
        token = make_token(engine, "admin-test", ["admin"])
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=30) as api:
            publish(api, remote_doc("1.0.0", upstream.url))
            assert api.post(DEPLOY, json={"server": NAME, "version": "1.0.0"}).status_code == 201
            message = modern_call("slow", {"steps": 1})
            message["json"]["params"]["_meta"]["progressToken"] = "p"  # type: ignore[index]
            events: list[dict[str, object]] = []
            first = threading.Event()

            def stream() -> None:
                target = f"{url}/environments/{ENV}/servers/{NAME}/mcp"
                with api.stream("POST", target, json=message["json"], headers=message["headers"]) as response:
                    for line in response.iter_lines():
                        if line.startswith("data:"):
                            events.append(json.loads(line[5:]))
                            first.set()

            def whoami(client: httpx.Client) -> httpx.Response:
                call = modern_call("whoami")
                return client.post(
                    f"/environments/{ENV}/servers/{NAME}/mcp", json=call["json"], headers=call["headers"]
                )

            load = Load(url, whoami, headers={"authorization": f"Bearer {token}"})
            workers = load.start(4)
            wait_until(lambda: load.ok >= 20, 30, "20 gateway answers under load")
            reader = threading.Thread(target=stream)
            reader.start()
            assert first.wait(20), "no progress came through the gateway"
            process.send_signal(signal.SIGTERM)
            wait_until(lambda: httpx.get(f"{url}/readyz", timeout=5).status_code == 503, 5, "not ready")
            served = load.ok
            wait_until(lambda: load.ok > served, 5, "a gateway answer while draining")
            load.stop.set()  # the balancer has taken the replica out
            for worker in workers:
                worker.join(timeout=30)
            upstream.gate.set()  # the tool finishes only now, after the signal
            reader.join(timeout=30)
        assert not reader.is_alive()
        assert load.failures == [], load.failures[:5]
        assert events[-1]["result"]["content"][0]["text"] == "done on 1.0.0"  # type: ignore[index]
        assert process.wait(timeout=30) == 0, log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
