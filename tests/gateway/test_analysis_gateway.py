"""Canary analysis on live gateway traffic: a canary that fails half its tool calls is aborted
by itself within two intervals (plus the time its traffic takes to reach the database), with
the failing numbers in history; stable keeps serving."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.settings import Settings
from tests.conftest import make_token
from tests.support.cli import InProcessCli
from tests.support.gateway_clients import NAME, call, deploy, gateway_url, release, whoami_version
from tests.support.live import LiveServer
from tests.support.upstreams import Upstream, upstreams
from tests.support.waiting import wait_until

TARGET = f"/api/environments/production/servers/{NAME}"
INTERVAL = 2.0


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Upstream]]:
    with upstreams() as started:
        yield started


def test_a_failing_canary_is_aborted_by_its_analysis_within_two_intervals(
    settings: Settings, engine: sa.Engine, running: dict[str, Upstream], tmp_path: Path
) -> None:
    fast = dataclasses.replace(
        settings, traffic_flush_interval=0.2, analysis_poll=0.2, scheduler_interval=0.2, health_checks=False
    )
    admin = make_token(engine, "admin", ["admin"])
    with (
        LiveServer(create_app(fast, engine)) as live,
        httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {admin}"}, timeout=30) as api,
    ):
        release(api, running, "1.0.0", "1.1.0")
        deploy(api, "1.0.0")
        checks = {"interval": INTERVAL, "failureLimit": 1, "checks": [{"kind": "errorRate", "max": 0.05}]}
        started = time.monotonic()
        deploy(api, "1.1.0", strategy="canary", weight=50, analysis=checks)
        clients = {
            api.get(f"{TARGET}/resolve", params={"client": f"c{n}"}).json()["version"]: f"c{n}"
            for n in range(40)
        }
        url, stop = gateway_url(live), threading.Event()

        def drive() -> None:
            with httpx.Client(headers={"Authorization": f"Bearer {admin}"}, timeout=30) as client:
                n = 0
                while not stop.is_set():
                    call(client, url, "fail" if n % 2 else "whoami", key=clients["1.1.0"])
                    call(client, url, "whoami", key=clients["1.0.0"])
                    n += 1

        driver = threading.Thread(target=drive)
        driver.start()
        try:
            wait_until(lambda: api.get(f"{TARGET}/rollout").json().get("status") == "aborted", timeout=30)
            aborted_after = time.monotonic() - started
        finally:
            stop.set()
            driver.join()
        settle = fast.traffic_flush_interval + 1.0
        print(f"aborted {aborted_after:.2f} s after the deploy ({INTERVAL} s intervals, {settle} s settle)")
        assert aborted_after <= 2 * INTERVAL + settle + 2 * fast.analysis_poll + 1.0

        report = api.get(f"{TARGET}/analysis").json()
        assert report["decision"]["action"] == "abort"
        assert [r["verdict"] for r in report["runs"]][:2] == ["fail", "fail"]
        assert report["runs"][0]["numbers"]["canaryErrorRate"] > 0.05
        event = next(e for e in api.get(f"{TARGET}/history").json()["events"] if e["action"] == "abort")
        assert event["actor"] == "analysis" and "failureLimit" in event["notes"]
        assert whoami_version(api, url, clients["1.1.0"]) == "1.0.0"  # the canary's clients are on stable
        cli = InProcessCli(live.url, admin, tmp_path)
        status = cli("rollout", "status", NAME, "--env", "production").output
        assert "analysis: abort" in status and "fail" in status
