"""``mcpreg gate``: add, list, remove gates and read a server's gate runs, and the gate wait in
``rollout status``, against a live server whose gate runner meets a real receiver."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import server_doc
from tests.support.cli import InProcessCli
from tests.support.live import LiveServer
from tests.support.receivers import receiving
from tests.support.waiting import wait_until

NAME = "io.github.acme/weather"
SECRET = "cli-gate-secret-value"


@pytest.fixture
def cli(live: LiveServer, admin_token: str, tmp_path: Path) -> InProcessCli:
    cli = InProcessCli(live.url, admin_token, tmp_path)
    with cli.registry() as registry:
        for version in ("1.0.0", "1.1.0"):
            registry.publish(server_doc(NAME, version))
    return cli


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "gate.secret"
    path.write_text(SECRET + "\n")
    return path


def test_gates_are_added_listed_and_removed(cli: InProcessCli, secret_file: Path) -> None:
    gate: Callable[..., Result] = lambda *args: cli("gate", *args)  # noqa: E731
    assert "no gates in staging" in gate("list", "staging").output
    added = gate(
        "add", "staging", "ci", "--webhook", "https://ci.example.com/gate", "--secret-file", str(secret_file),
        "--points", "step,promote", "--timeout", "5",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "gate ci (webhook, at step, promote) set in staging" in added.output
    smoke = gate("add", "staging", "smoke", "--testset", "smoke", "--json")
    assert smoke.exit_code == 0, smoke.output
    assert json.loads(smoke.output)["points"] == ["deploy", "step", "promote"]
    listed = json.loads(gate("list", "staging", "--json").output)
    assert [(g["name"], g["kind"], g.get("secretSet")) for g in listed] == [
        ("ci", "webhook", True),
        ("smoke", "testset", None),
    ]
    table = gate("list", "staging").output
    assert "https://ci.example.com/gate (5 s)" in table and "test set smoke" in table
    assert SECRET not in table and SECRET not in added.output
    assert gate("remove", "staging", "smoke").exit_code == 0
    assert [g["name"] for g in json.loads(gate("list", "staging", "--json").output)] == ["ci"]
    gone = gate("remove", "staging", "smoke")
    assert gone.exit_code == 1 and "gate_not_found" in gone.output


def test_bad_gate_options_are_usage_errors_or_refusals_naming_the_field(cli: InProcessCli) -> None:
    assert cli("gate", "add", "staging", "ci").exit_code == 2
    assert (
        cli("gate", "add", "staging", "ci", "--webhook", "https://x.example", "--testset", "s").exit_code == 2
    )
    unset = cli(
        "gate", "add", "staging", "ci", "--webhook", "https://x.example", "--secret-env", "NO_SUCH_VAR_X"
    )
    assert unset.exit_code == 2 and "NO_SUCH_VAR_X" in unset.output
    refused = cli("gate", "add", "staging", "ci", "--testset", "smoke", "--points", "deploy,later")
    assert refused.exit_code == 1 and "points[1]" in refused.output


def test_gate_runs_and_rollout_status_say_what_a_step_waits_on(cli: InProcessCli, secret_file: Path) -> None:
    assert cli("deploy", f"{NAME}@1.0.0", "--env", "staging").exit_code == 0
    with receiving(500) as receiver:
        added = cli(
            "gate", "add", "staging", "ci", "--webhook", receiver.url, "--secret-file", str(secret_file),
            "--points", "step", "--retry-initial", "600",
        )  # fmt: skip
        assert added.exit_code == 0, added.output
        started = cli("deploy", f"{NAME}@1.1.0", "--env", "staging", "--steps", "10:1s,50:1m")
        assert started.exit_code == 0, started.output

        def failed_once() -> bool:
            report = json.loads(cli("gate", "runs", "staging", NAME, "--json").output)
            return [r["result"] for r in report["runs"]] == ["fail"]

        wait_until(failed_once, timeout=15, what="the gate's first attempt")
    runs = cli("gate", "runs", "staging", NAME)
    assert "waiting on gate ci (webhook) before step 1: attempt 1 fail: HTTP 500" in runs.output
    assert "ci" in runs.output and "500" in runs.output
    status = cli("rollout", "status", NAME, "--env", "staging")
    assert status.exit_code == 0, status.output
    assert "waiting on gate ci (webhook) before step 1" in status.output
    assert json.loads(cli("rollout", "status", NAME, "--env", "staging", "--json").output)["gates"][
        "waitingOn"
    ]


def test_deploy_gates_file_adds_the_deployments_own_gates(cli: InProcessCli, tmp_path: Path) -> None:
    own = tmp_path / "gates.json"
    own.write_text(
        json.dumps([{"name": "smoke", "kind": "testset", "testset": "smoke", "points": ["deploy"]}])
    )
    held = cli("deploy", f"{NAME}@1.0.0", "--env", "staging", "--gates", str(own), "--json")
    assert held.exit_code == 0, held.output
    assert json.loads(held.output)["deployment"]["state"] == "held"
    report = json.loads(cli("gate", "runs", "staging", NAME, "--json").output)
    assert [g["name"] for g in report["gates"]] == ["smoke"]

    own.write_text(json.dumps({"name": "smoke"}))
    not_a_list = cli("deploy", f"{NAME}@1.0.0", "--env", "staging", "--gates", str(own))
    assert not_a_list.exit_code == 2 and "--gates" in not_a_list.output
    own.write_text(
        json.dumps([{"name": "ci", "kind": "webhook", "url": "ftp://x.example", "secret": "s" * 20}])
    )
    refused = cli("deploy", f"{NAME}@1.0.0", "--env", "staging", "--gates", str(own))
    assert refused.exit_code == 1 and "gates[0].url" in refused.output
