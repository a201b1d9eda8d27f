"""``mcpreg limits``: set, show and remove the gateway's rate limits, against a live server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from tests.conftest import server_doc
from tests.support.cli import InProcessCli
from tests.support.live import LiveServer

NAME = "io.github.acme/weather"


@pytest.fixture
def mcpreg(live: LiveServer, admin_token: str, tmp_path: Path) -> Callable[..., Result]:
    cli = InProcessCli(live.url, admin_token, tmp_path)
    with cli.registry() as registry:
        registry.publish(server_doc(NAME, "1.0.0"))
    return lambda *args: cli("limits", *args)


def test_limits_are_set_shown_and_removed(mcpreg: Callable[..., Result]) -> None:
    assert mcpreg("show", "--env", "staging").output.startswith("no rate limits in staging")
    default = mcpreg("set", "--env", "staging", "--rate", "50", "--burst", "100", "--json")
    assert default.exit_code == 0, default.output
    assert json.loads(default.output)["rate"] == 50.0
    own = mcpreg("set", NAME, "--env", "staging", "--client-rate", "2", "--client-burst", "4")
    assert own.exit_code == 0, own.output
    assert "set" in own.output

    listed = json.loads(mcpreg("show", "--env", "staging", "--json").output)
    assert [(r["server"], r["rate"], r["clientBurst"]) for r in listed] == [
        (None, 50.0, None),
        (NAME, None, 4),
    ]
    table = mcpreg("show", "--env", "staging").output
    assert "(default)" in table and NAME in table

    assert mcpreg("rm", NAME, "--env", "staging").exit_code == 0
    gone = mcpreg("show", NAME, "--env", "staging")
    assert gone.exit_code == 1 and "no rate limit is set" in gone.output


def test_a_half_given_limit_is_refused_with_the_field_and_nothing_changes(
    mcpreg: Callable[..., Result],
) -> None:
    refused = mcpreg("set", "--env", "staging", "--rate", "5")
    assert refused.exit_code == 1
    assert "burst" in refused.output
    nothing = mcpreg("set", "--env", "staging")
    assert nothing.exit_code == 2
    assert json.loads(mcpreg("show", "--env", "staging", "--json").output) == []
