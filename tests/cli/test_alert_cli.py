"""``mcpreg alert``: add, list, remove and firings against a live server; the secret comes
from a variable or a file, never from the command line, and is never printed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import Result

from mcpreg.db.engine import unit_of_work
from mcpreg.domain.health import Thresholds
from mcpreg.services import health
from tests.conftest import server_doc
from tests.support.cli import InProcessCli
from tests.support.live import LiveServer
from tests.support.waiting import wait_until

NAME = "io.github.acme/weather"
SECRET = "cli-alert-secret-42"


@pytest.fixture
def mcpreg(
    live: LiveServer, admin_token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    cli = InProcessCli(live.url, admin_token, tmp_path)
    with cli.registry() as registry:
        registry.publish(server_doc(NAME, "1.0.0"))
        registry.deploy(NAME, "1.0.0", "staging")
    monkeypatch.setenv("ALERT_SECRET", SECRET)
    return lambda *args: cli("alert", *args)


def test_rules_are_added_listed_and_removed_and_bad_ones_refused_naming_the_field(
    mcpreg: Callable[..., Result], tmp_path: Path
) -> None:
    assert mcpreg("list", "staging").output.startswith("no alert rules in staging")
    added = mcpreg(
        "add", "staging", "errors", "--kind", "errorRate", "--webhook", "https://hooks.example/a",
        "--secret-env", "ALERT_SECRET", "--threshold", "0.05", "--window", "10m", "--json",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["window"] == 600 and SECRET not in added.output
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    down = mcpreg(
        "add", "staging", "down", "--kind", "health", "--webhook", "https://hooks.example/h",
        "--secret-file", str(secret_file), "--state", "degraded", "--server", NAME,
    )  # fmt: skip
    assert down.exit_code == 0 and "set" in down.output
    table = mcpreg("list", "staging").output
    assert "errors > 5.0% over 600 s" in table and "health degraded or worse" in table and SECRET not in table
    assert [r["name"] for r in json.loads(mcpreg("list", "staging", "--json").output)] == ["down", "errors"]
    assert mcpreg("remove", "staging", "errors").exit_code == 0
    assert [r["name"] for r in json.loads(mcpreg("list", "staging", "--json").output)] == ["down"]
    refused = mcpreg(
        "add", "staging", "errors", "--kind", "errorRate", "--webhook", "https://hooks.example/a",
        "--secret-env", "ALERT_SECRET", "--threshold", "5",
    )  # fmt: skip
    assert refused.exit_code == 1 and "threshold" in refused.output
    unset = mcpreg(
        "add", "staging", "x", "--kind", "rollback", "--webhook", "https://h.example/", "--secret-env", "NOPE"
    )
    assert unset.exit_code == 2 and "NOPE" in unset.output


def test_firings_show_what_fired_and_its_delivery(mcpreg: Callable[..., Result], engine: sa.Engine) -> None:
    assert mcpreg(
        "add", "staging", "down", "--kind", "health", "--webhook", "http://127.0.0.1:9/nothing-listens",
        "--secret-env", "ALERT_SECRET", "--timeout", "1",
    ).exit_code == 0  # fmt: skip
    with unit_of_work(engine, write=True) as session:
        health.record(session, "staging", NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))

    def attempted() -> list[dict[str, object]] | None:
        rows: list[dict[str, object]] = json.loads(mcpreg("firings", "staging", "--json").output)
        return rows if rows and rows[0]["attemptLog"] else None  # an attempt claimed counts before it is sent

    [firing] = wait_until(attempted, 15, "the alerts loop trying the webhook")
    assert firing["rule"] == "down" and firing["kind"] == "health"
    table = mcpreg("firings", "staging", "--rule", "down").output
    assert "is unhealthy" in table and "connection failed" in table
