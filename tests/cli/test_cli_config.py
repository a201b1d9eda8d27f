"""Variables, write-only secrets and the effective configuration through the CLI."""

from __future__ import annotations

import os
import pty
import select
import time

from mcpreg.client import Registry
from tests.conftest import server_doc
from tests.support.served import MCPREG, Served

SECRET = "s3cr3t-w34th3r-k3y"


def deployed(served: Served, name: str) -> str:
    """``name`` 1.0.0, declaring a required secret and a defaulted variable, runs in production."""
    doc = server_doc(name, "1.0.0")
    doc["packages"][0]["environmentVariables"] = [
        {"name": "WEATHER_API_KEY", "isRequired": True, "isSecret": True},
        {"name": "LOG_LEVEL", "default": "info"},
    ]
    with Registry(served.url, token=served.admin_token, cache_ttl=0) as admin:
        admin.publish(doc)
        admin.deploy(name, "1.0.0", "production")
    return name


def test_variables_are_set_per_scope_listed_and_removed(served: Served) -> None:
    name = deployed(served, "io.github.acme/variables")
    assert served.run("vars", "set", name, "REGION", "eu-west-1").code == 0
    assert served.run("vars", "set", name, "REGION", "us-east-1", "--env", "production").code == 0
    listed = {(v["name"], v["scope"], v["value"]) for v in served.run("vars", "list", name, "--json").json()}
    assert listed == {("REGION", "server", "eu-west-1"), ("REGION", "environment", "us-east-1")}
    assert served.run("vars", "rm", name, "REGION", "--env", "production").code == 0


def test_a_secret_is_read_from_stdin_and_never_shown_again(served: Served) -> None:
    name = deployed(served, "io.github.acme/secrets")
    missing = served.run("config", name, "--env", "production", "--json").json()
    assert missing["missing"] == ["WEATHER_API_KEY"]
    stored = served.run("secrets", "set", name, "WEATHER_API_KEY", "--json", input=SECRET + "\n")
    assert stored.code == 0, stored.stderr
    assert SECRET not in stored.stdout and stored.json()["revision"] == 1
    listed = served.run("secrets", "list", name, "--json")
    assert [s["name"] for s in listed.json()] == ["WEATHER_API_KEY"]
    assert SECRET not in listed.stdout
    masked = served.run("config", name, "--env", "production", "--json").json()
    assert masked["secrets"]["WEATHER_API_KEY"]["value"] != SECRET
    assert masked["variables"]["LOG_LEVEL"]["value"] == "info" and masked["missing"] == []


def test_a_secret_value_is_refused_on_the_command_line(served: Served) -> None:
    done = served.run("secrets", "set", "io.github.acme/argv", "WEATHER_API_KEY", SECRET)
    assert done.code == 2


def test_revealing_needs_a_reason_and_the_secrets_read_scope(served: Served) -> None:
    name = deployed(served, "io.github.acme/revealed")
    served.run("secrets", "set", name, "WEATHER_API_KEY", input=SECRET)
    unexplained = served.run("config", name, "--env", "production", "--reveal")
    assert unexplained.code == 2 and "--reason" in unexplained.stderr
    reader = served.token("config-reader", ["read", "secrets:read"])
    revealed = served.run(
        "config",
        name,
        "--env",
        "production",
        "--reveal",
        "--reason",
        "incident 42",
        "--json",
        token=reader,
    )
    assert revealed.code == 0, revealed.stderr
    assert revealed.json()["secrets"]["WEATHER_API_KEY"]["value"] == SECRET


def test_a_secret_is_removed(served: Served) -> None:
    name = deployed(served, "io.github.acme/removed")
    served.run("secrets", "set", name, "OLD_TOKEN", input="x")
    assert served.run("secrets", "rm", name, "OLD_TOKEN").code == 0
    gone = served.run("secrets", "rm", name, "OLD_TOKEN")
    assert gone.code == 1 and "secret_not_found" in gone.stderr


def test_at_a_terminal_the_secret_is_asked_for_without_echo(served: Served) -> None:
    name = deployed(served, "io.github.acme/prompted")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: mcpreg on a pseudo-terminal of its own
        os.execve(MCPREG, [MCPREG, "secrets", "set", name, "WEATHER_API_KEY"], served.env(served.admin_token))
    seen = b""
    deadline = time.monotonic() + 60
    while b"Value of WEATHER_API_KEY" not in seen and time.monotonic() < deadline:
        seen += _read(terminal)
    os.write(terminal, SECRET.encode() + b"\n")
    while time.monotonic() < deadline:
        chunk = _read(terminal)
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert SECRET.encode() not in seen, "the prompt echoed the secret"
    with Registry(served.url, token=served.admin_token) as admin:
        listed = admin.secrets(name)
    assert [s["name"] for s in listed] == ["WEATHER_API_KEY"]


def _read(terminal: int) -> bytes:
    ready, _, _ = select.select([terminal], [], [], 5)
    if not ready:
        return b""
    try:
        return os.read(terminal, 4096)
    except OSError:  # the child closed the terminal
        return b""
