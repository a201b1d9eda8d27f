"""``mcpreg traffic``: the per-version table, ``--json`` and a bounded ``--watch``, in process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mcpreg.api.runtime import runtime
from mcpreg.client import Registry
from mcpreg.gateway.metrics import Observation
from mcpreg.gateway.traffic import TrafficFlusher
from tests.conftest import server_doc
from tests.support.cli import InProcessCli
from tests.support.live import LiveServer

NAME = "io.github.acme/weather"


@pytest.fixture
def cli(live: LiveServer, engine: sa.Engine, admin_token: str, tmp_path: Path) -> InProcessCli:
    """Traffic of two versions of NAME in dev, flushed to the database, and the CLI against it."""
    with Registry(live.url, token=admin_token, cache_ttl=0) as registry:
        registry.publish(server_doc(NAME, "1.0.0"))
        registry.publish(server_doc(NAME, "1.1.0"))
    metrics = runtime(live.app).gateway_metrics
    for outcome, n in (("ok", 18), ("upstream_5xx", 2)):
        for _ in range(n):
            metrics.observe(Observation(NAME, "dev", "1.0.0", "stable", "tools/call", outcome, 0.004))
    for _ in range(5):
        metrics.observe(Observation(NAME, "dev", "1.1.0", "canary", "tools/call", "tool_error", 0.04))
    TrafficFlusher(engine, metrics).flush()
    return InProcessCli(live.url, admin_token, tmp_path)


def _documents(text: str) -> list[Any]:
    """The JSON documents printed one after another."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text.rstrip()):
        document, at = decoder.raw_decode(text, at)
        found.append(document)
        while at < len(text) and text[at].isspace():
            at += 1
    return found


def test_traffic_prints_the_report_as_json_or_one_row_per_version(cli: InProcessCli) -> None:
    result = cli("traffic", NAME, "--env", "dev", "--window", "10m", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["window"], report["windowSeconds"], report["replicas"]) == ("10m", 600, 1)
    stable, canary = report["versions"]
    assert (stable["version"], stable["requests"], stable["errors"]) == ("1.0.0", 20, 2)
    assert (canary["version"], canary["track"], canary["outcomes"]) == ("1.1.0", "canary", {"tool_error": 5})

    result = cli("traffic", NAME, "--env", "dev")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    row = next(line for line in lines if "1.0.0" in line)
    assert "stable" in row and "20" in row and "10.0%" in row and "ok 18, upstream_5xx 2" in row
    row = next(line for line in lines if "1.1.0" in line)
    assert "canary" in row and "100.0%" in row and "tool_error 5" in row
    assert "last 5m" in result.stdout


def test_traffic_watch_reads_again_until_its_count(cli: InProcessCli) -> None:
    result = cli("traffic", NAME, "--env", "dev", "--watch", "--json", "--count", "3", "--interval", "0.2")
    assert result.exit_code == 0, result.output
    reports = _documents(result.stdout)
    assert len(reports) == 3
    assert all(r["versions"][0]["requests"] == 20 for r in reports)


def test_a_bad_window_is_a_usage_error_and_an_unknown_environment_a_refusal(cli: InProcessCli) -> None:
    bad = cli("traffic", NAME, "--env", "dev", "--window", "5 minutes")
    assert bad.exit_code == 2 and "--window" in bad.output
    unknown = cli("traffic", NAME, "--env", "moon")
    assert unknown.exit_code == 1 and "environment_not_found" in unknown.output
