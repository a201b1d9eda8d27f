"""``mcpreg testset`` and ``mcpreg publish`` with a ``testsets.json``, against a live server and
real upstream MCP servers (1.1.0's ``forecast`` answers wrongly)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import InProcessCli
from tests.support.gateway_clients import NAME
from tests.support.live import LiveServer
from tests.support.upstreams import Upstream, remote_doc, upstreams

NOWHERE = "http://127.0.0.1:9"  # the discard port: connections are refused
SMOKE: dict[str, Any] = {
    "description": "before promoting",
    "cases": [
        {
            "name": "sunny in Paris",
            "tool": "forecast",
            "arguments": {"city": "Paris"},
            "expect": {"subset": {"sky": "sunny"}},
        },
        {"name": "says it fails", "tool": "fail", "expect": {"regex": "^Error", "isError": True}},
    ],
}


@pytest.fixture(scope="module")
def echo() -> Iterator[dict[str, Upstream]]:
    with upstreams() as running:
        running["1.1.0"].wrong = True
        yield running


@pytest.fixture
def cli(live: LiveServer, admin_token: str, tmp_path: Path) -> InProcessCli:
    return InProcessCli(live.url, admin_token, tmp_path)


def write(path: Path, body: Any) -> Path:
    path.write_text(json.dumps(body))
    return path


def test_a_set_is_put_shown_run_and_its_failing_case_printed(
    cli: InProcessCli, echo: dict[str, Upstream], tmp_path: Path
) -> None:
    with cli.registry() as registry:
        for version in ("1.0.0", "1.1.0"):
            registry.publish(remote_doc(version, echo[version].url))
        registry.deploy(NAME, "1.0.0", "production")
        registry.deploy(NAME, "1.1.0", "production", strategy="canary", weight=10)
    put = cli("testset", "put", NAME, str(write(tmp_path / "smoke.json", SMOKE)))
    assert put.exit_code == 0, put.output
    assert "smoke" in put.output and "2 cases" in put.output
    listed = cli("testset", "list", NAME)
    assert "smoke" in listed.output and "before promoting" in listed.output
    shown = cli("testset", "show", NAME, "smoke")
    assert "sunny in Paris" in shown.output and "forecast" in shown.output

    canary = cli("testset", "run", NAME, "smoke", "--env", "production")
    assert canary.exit_code == 1, canary.output
    assert "fail sunny in Paris" in canary.output and "pass says it fails" in canary.output
    assert "1.1.0 (canary)" in canary.output and "case 'sunny in Paris' failed" in canary.output
    stable = cli("testset", "run", NAME, "smoke", "--env", "production", "--version", "1.0.0", "--json")
    assert stable.exit_code == 0, stable.output
    assert json.loads(stable.output)["result"] == "pass"

    unknown = cli("testset", "run", NAME, "smoke", "--env", "production", "--version", "9.9.9")
    assert (
        unknown.exit_code == 1
        and "version_not_found" in unknown.output
        and "option: --version" in unknown.output
    )
    runs = cli("testset", "runs", NAME, "smoke")
    assert runs.exit_code == 0 and "sunny in Paris" in runs.output  # the failing column
    first = json.loads(cli("testset", "runs", NAME, "smoke", "--json").output)[-1]
    one = cli("testset", "runs", NAME, "smoke", "--id", str(first["id"]))
    assert "fail sunny in Paris" in one.output
    assert cli("testset", "rm", NAME, "smoke").exit_code == 0
    gone = cli("testset", "show", NAME, "smoke")
    assert gone.exit_code == 1 and "testset_not_found" in gone.output


def test_a_bad_file_is_refused_locally_naming_the_field(tmp_path: Path) -> None:
    offline = InProcessCli(NOWHERE, "mcpreg_unused", tmp_path)  # nothing may be sent
    bad = {"cases": [{"name": "a", "tool": "t", "expect": {"regex": "("}}]}
    refused = offline("testset", "put", NAME, str(write(tmp_path / "bad.json", bad)))
    assert refused.exit_code == 1 and "cases[0].expect.regex" in refused.output
    assert "unreachable" not in refused.output
    missing = offline("testset", "put", NAME, str(tmp_path / "none.json"))
    assert missing.exit_code == 2


PUBLIC = "https://echo.example.com/mcp"  # what a published server.json names (checked locally)


def test_publish_stores_the_testsets_json_beside_the_server_json(cli: InProcessCli, tmp_path: Path) -> None:
    server_json = write(tmp_path / "server.json", remote_doc("1.0.0", PUBLIC))
    write(tmp_path / "testsets.json", {"testsets": {"smoke": SMOKE, "quick": {"cases": SMOKE["cases"][:1]}}})
    published = cli("publish", str(server_json))
    assert published.exit_code == 0, published.output
    assert "test sets smoke, quick" in published.output
    with cli.registry() as registry:
        assert sorted(s["name"] for s in registry.testsets(NAME)) == ["quick", "smoke"]
        assert len(registry.testset(NAME, "smoke")["cases"]) == 2
    write(server_json, remote_doc("1.1.0", PUBLIC))
    draft = cli("publish", str(server_json), "--draft")
    assert draft.exit_code == 0 and "not with a draft" in draft.output
    with cli.registry() as registry:
        assert registry.testset(NAME, "smoke")["revision"] == 1


def test_publish_sends_nothing_when_the_testsets_json_breaks_a_rule(tmp_path: Path) -> None:
    offline = InProcessCli(NOWHERE, "mcpreg_unused", tmp_path)  # a request would be `unreachable`
    server_json = write(tmp_path / "server.json", remote_doc("1.0.0", PUBLIC))
    write(tmp_path / "testsets.json", {"testsets": {"smoke": {"cases": [{"name": "a", "tool": "t"}]}}})
    refused = offline("publish", str(server_json))
    assert refused.exit_code == 1 and "testsets.smoke.cases[0].expect" in refused.output
    assert "unreachable" not in refused.output


def test_validate_checks_the_testsets_json_beside_the_server_json(tmp_path: Path) -> None:
    offline = InProcessCli(NOWHERE, "mcpreg_unused", tmp_path)
    server_json = write(tmp_path / "server.json", remote_doc("1.0.0", PUBLIC))
    assert offline("validate", str(server_json)).exit_code == 0  # no testsets.json: as before
    write(
        tmp_path / "testsets.json",
        {"testsets": {"smoke": {"cases": [{"name": "a", "tool": "t", "expect": {"regex": "("}}]}}},
    )
    refused = offline("validate", str(server_json))
    assert refused.exit_code == 1 and "testsets.smoke.cases[0].expect.regex" in refused.output
    report = json.loads(offline("validate", str(server_json), "--json").stdout)
    assert report["valid"] is False and report["errors"][0]["file"].endswith("testsets.json")
    write(tmp_path / "testsets.json", {"testsets": {"smoke": SMOKE}})
    assert offline("validate", str(server_json)).exit_code == 0
