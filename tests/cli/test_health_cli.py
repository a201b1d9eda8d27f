"""``mcpreg health``, and the health line of ``rollout status`` and ``where``, against a live server."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from mcpreg.client import Registry
from mcpreg.db.engine import unit_of_work
from mcpreg.services import health
from tests.conftest import server_doc
from tests.support.cli import InProcessCli
from tests.support.live import LiveServer

NAME = "io.github.acme/weather"


def test_health_rollout_status_and_where_show_the_probers_states(
    live: LiveServer, engine: sa.Engine, admin_token: str, tmp_path: Path
) -> None:
    with Registry(live.url, token=admin_token, cache_ttl=0) as registry:
        registry.publish(server_doc(NAME, "1.0.0"))
        registry.publish(server_doc(NAME, "1.1.0"))
        registry.deploy(NAME, "1.0.0", environment="production")
        registry.deploy(NAME, "1.1.0", environment="production", strategy="canary", weight=10)
    with unit_of_work(engine, write=True) as session:
        health.record(session, "production", NAME, "1.0.0", True)
        for _ in range(3):
            health.record(session, "production", NAME, "1.1.0", False, "ConnectError: refused")
    mcpreg = InProcessCli(live.url, admin_token, tmp_path)
    report = json.loads(mcpreg("health", NAME, "--env", "production", "--json").output)
    assert [(v["track"], v["state"]) for v in report["versions"]] == [
        ("stable", "healthy"),
        ("canary", "unhealthy"),
    ]
    table = mcpreg("health", NAME, "--env", "production").output
    assert "unhealthy" in table and "ConnectError: refused" in table and "sent to stable" in table
    status = mcpreg("rollout", "status", NAME, "--env", "production").output
    assert "health: stable 1.0.0 healthy, canary 1.1.0 unhealthy" in status
    where = mcpreg("where", NAME).output
    assert "healthy / unhealthy" in where
    unknown = mcpreg("health", "io.github.acme/nothing", "--env", "production")
    assert unknown.exit_code == 1
