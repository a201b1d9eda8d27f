"""``mcpreg curate`` against a real server over a mirrored upstream (SQLite): the
acts land (and are listed), and a refusal prints the registry's code in the CLI's words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from mcpreg.cli.main import app as cli
from tests.conftest import server_doc
from tests.support.curation import declare, run_sync
from tests.support.live import LiveServer
from tests.support.upstream_registry import FakeUpstream

TOOL = "io.github.acme/tool"


def curate(live: LiveServer, token: str, home: Path, *args: str) -> Result:
    env = {"MCPREG_URL": live.url, "MCPREG_TOKEN": token, "HOME": str(home), "COLUMNS": "200"}
    return CliRunner().invoke(cli, ["curate", *args], env=env)


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else result.stdout


# The CLI adds no database behaviour of its own (tests/api and tests/services run curation on
# both backends): one backend keeps this end-to-end walk cheap.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_curate_allows_denies_pins_deprecates_lists_and_prints_refusals_in_its_words(
    engine: sa.Engine, live: LiveServer, admin_token: str, tmp_path: Path
) -> None:
    fake = FakeUpstream()
    for name, version in ((TOOL, "1.0.0"), (TOOL, "1.1.0"), ("io.github.acme/other", "1.0.0")):
        fake.add(server_doc(name, version))
    declare(engine, namespaces=["io.github.*"])
    run_sync(engine, fake)

    def run(*args: str) -> Any:
        return ok(curate(live, admin_token, tmp_path, *args))

    assert run("deny", "io.github.acme/*", "--upstream", "public", "--json")["withheld"] == [
        "io.github.acme/other",
        TOOL,
    ]
    assert "allow io.github.acme/tool (1 restored)" in run("allow", TOOL)
    assert run("pin", TOOL, "1.0.0", "--json")["version"] == "1.0.0"
    assert "deprecated: fork it" in run("deprecate", TOOL, "1.1.0", "--message", "fork it")
    assert "io.github.beta is local" in run("local", "io.github.beta")
    shown = run("list", "--json")
    assert [(r["pattern"], r["effect"]) for r in shown["rules"]] == [
        (TOOL, "allow"),
        ("io.github.acme/*", "deny"),
    ]
    assert [(s["version"], s["statusMessage"]) for s in shown["localStatuses"]] == [("1.1.0", "fork it")]
    table = run("list")
    assert "io.github.acme/*" in table and "pinned" in table and "local" in table
    assert run("unpin", TOOL, "--json")["latest"] == "1.0.0"  # 1.1.0 is deprecated here
    assert run("forget", TOOL, "--json")["withheld"] == [TOOL]
    assert "io.github.beta is no longer local" in run("local", "io.github.beta", "--remove")
    refused = curate(live, admin_token, tmp_path, "local", "io github")
    assert refused.exit_code == 1
    assert "invalid_curation (HTTP 422)" in refused.stderr and "NAMESPACE" in refused.stderr
    missing = curate(live, admin_token, tmp_path, "forget", "io.*", "--upstream", "nowhere")
    assert (
        missing.exit_code == 1 and "upstream_not_found" in missing.stderr and "--upstream" in missing.stderr
    )
