"""``mcpreg connect``: the gateway URL and client configuration, with the token a placeholder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import server_doc
from tests.support.cli import InProcessCli
from tests.support.live import LiveServer

NAME = "io.github.acme/weather"


@pytest.fixture
def cli(live: LiveServer, admin_token: str, tmp_path: Path) -> InProcessCli:
    """A canary of NAME at 20% in dev, and the CLI against it."""
    run = InProcessCli(live.url, admin_token, tmp_path)
    with run.registry() as registry:
        registry.publish(server_doc(NAME, "1.0.0"))
        registry.publish(server_doc(NAME, "1.1.0"))
        registry.deploy(NAME, "1.0.0", "dev")
        registry.deploy(NAME, "1.1.0", "dev", strategy="canary", weight=20)
    return run


def test_connect_prints_the_gateway_url_and_configurations_without_the_token(cli: InProcessCli) -> None:
    result = cli("connect", NAME, "--env", "dev", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    url = f"{cli.url}/environments/dev/servers/io.github.acme/weather/mcp"
    assert found["url"] == url and found["public"] is False
    entry = found["vscode"]["servers"]["weather"]
    assert entry == {"type": "http", "url": url, "headers": {"Authorization": "Bearer ${input:mcpreg-token}"}}
    assert found["vscode"]["inputs"][0]["id"] == "mcpreg-token" and found["vscode"]["inputs"][0]["password"]
    assert found["generic"] == {"url": url, "headers": {"Authorization": "Bearer <MCPREG_TOKEN>"}}
    assert cli.token not in result.output


def test_connect_shows_the_routing_and_pastes_as_json(cli: InProcessCli) -> None:
    result = cli("connect", NAME, "--env", "dev", "--client-id", "laptop-7")
    assert result.exit_code == 0, result.output
    assert "routes to stable 1.0.0, canary 1.1.0 at 20%" in result.stdout
    vscode_start = result.stdout.index("{", result.stdout.index("VS Code"))
    vscode, _ = json.JSONDecoder().raw_decode(result.stdout, vscode_start)
    assert vscode["servers"]["weather"]["headers"]["X-Client-Id"] == "laptop-7"
    generic_start = result.stdout.index("{", result.stdout.index("Other MCP clients"))
    generic, _ = json.JSONDecoder().raw_decode(result.stdout, generic_start)
    assert generic["headers"] == {"Authorization": "Bearer <MCPREG_TOKEN>", "X-Client-Id": "laptop-7"}
    assert cli.token not in result.output


def test_the_token_is_written_in_only_when_asked_and_a_public_gateway_needs_none(cli: InProcessCli) -> None:
    found = json.loads(cli("connect", NAME, "--env", "dev", "--show-token", "--json").stdout)
    bearer = f"Bearer {cli.token}"
    assert found["vscode"]["servers"]["weather"]["headers"] == {"Authorization": bearer}
    assert "inputs" not in found["vscode"]
    assert found["generic"]["headers"] == {"Authorization": bearer}
    with cli.registry() as registry:
        registry.update_environment("dev", gatewayPublic=True)
    found = json.loads(cli("connect", NAME, "--env", "dev", "--show-token", "--json").stdout)
    assert found["public"] is True
    assert "headers" not in found["vscode"]["servers"]["weather"] and "inputs" not in found["vscode"]
    assert found["generic"] == {"url": found["url"]}


def test_connect_to_an_unknown_environment_or_server_is_refused(cli: InProcessCli) -> None:
    moon = cli("connect", NAME, "--env", "moon")
    assert moon.exit_code == 1 and "environment_not_found" in moon.output
    nobody = cli("connect", "io.github.acme/nobody", "--env", "dev")
    assert nobody.exit_code == 1 and "server_not_found" in nobody.output
