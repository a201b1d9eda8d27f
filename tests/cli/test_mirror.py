"""``mcpreg upstream`` and ``mcpreg mirror`` against a real mirror server, on each backend,
syncing a second real mcpreg: declare (token from a file), list, show, sync with counts,
list the runs, remove; and a refusal prints the registry's code."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from mcpreg.api.app import create_app
from mcpreg.cli.main import app as cli
from mcpreg.settings import Settings
from tests.conftest import make_token
from tests.support.cli import console_width
from tests.support.live import LiveServer
from tests.support.upstream_registry import RealUpstream


@pytest.fixture
def mirror(settings: Settings, engine: sa.Engine) -> Iterator[LiveServer]:
    with LiveServer(create_app(dataclasses.replace(settings, mirror_sync=False), engine)) as server:
        yield server


def mcpreg(live: LiveServer, token: str, home: Path, *args: str) -> Result:
    env = {"MCPREG_URL": live.url, "MCPREG_TOKEN": token, "HOME": str(home), "COLUMNS": "200"}
    return CliRunner().invoke(cli, list(args), env=env)


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else result.stdout


def test_upstream_and_mirror_commands_declare_sync_and_report_runs(
    mirror: LiveServer, admin_token: str, sqlite_template: Path, tmp_path: Path
) -> None:
    with RealUpstream(sqlite_template, tmp_path / "upstream") as upstream:

        def run(*args: str) -> Any:
            return ok(mcpreg(mirror, admin_token, tmp_path, *args))

        token_file = tmp_path / "token"
        secret = make_token(upstream.engine, "mirror-reader", ["read"])  # the upstream's own token
        token_file.write_text(secret + "\n")
        added = run(
            "upstream", "add", "public", upstream.url, "--namespaces", "io.github.*",
            "--exclude", "io.github.beta", "--interval", "15m", "--token-file", str(token_file), "--json",
        )  # fmt: skip
        assert (added["namespaces"], added["intervalSeconds"], added["token"]) == (["io.github.*"], 900, True)
        assert secret not in run("upstream", "list") and "public" in run("upstream", "list")
        synced = run("mirror", "sync", "public", "--json")
        assert (synced["state"], synced["kind"]) == ("ok", "full") and synced["added"] > 0
        assert synced["skipped"] > 0  # the com.example and dev.mcpreg servers are outside io.github.*
        again = run("mirror", "sync", "public")
        assert "incremental sync" in again and "0 added" in again
        full = run("mirror", "sync", "public", "--full")  # a full sync reconciles: nothing vanished
        assert "full sync" in full and "0 added" in full and "0 vanished" in full
        shown = run("upstream", "show", "public")
        assert "io.github.*" in shown and "ok full" in shown
        runs = run("mirror", "runs", "public", "--json")
        assert [(r["kind"], r["vanished"]) for r in runs] == [("full", 0), ("incremental", 0), ("full", 0)]
        assert "full" in run("mirror", "runs", "public")
        assert "mirrored from public" in run("where", "io.github.acme/weather")
        missing = mcpreg(mirror, admin_token, tmp_path, "mirror", "sync", "nope")
        assert missing.exit_code == 1 and "upstream_not_found" in missing.output
        assert "removed" in run("upstream", "remove", "public")
        assert run("upstream", "list", "--json") == []


def test_upstream_show_counts_what_the_last_full_sync_found_vanished() -> None:
    from mcpreg.cli import upstream as command

    last = {"state": "ok", "kind": "full", "startedAt": "2030-01-31T18:00:00Z", "error": None}
    shown = {"name": "public", "url": "https://r.example/v0.1", "namespaces": [], "exclude": []}
    shown |= {"intervalSeconds": 600, "token": False}
    for vanished, said in ((2, "0 refused, 2 vanished"), (0, "0 refused")):
        with console_width(200), command.out.capture() as captured:
            command._show(
                shown | {"lastRun": last | {"added": 1, "updated": 0, "refused": 0, "vanished": vanished}}
            )
        assert said in captured.get() and ("vanished" in captured.get()) == bool(vanished)
