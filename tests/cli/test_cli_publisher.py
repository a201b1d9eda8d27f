"""The publisher's commands as real subprocesses against a real ``mcpreg serve``."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpreg.client import Registry
from tests.conftest import server_doc
from tests.support.served import MCPREG, Served

GREEN, RED, BLUE = "\x1b[32m", "\x1b[31m", "\x1b[34m"
BAD = """{
  "name": "weather",
  "description": "Weather forecasts",
  "version": "v1.0.0",
  "packages": [
    {
      "registryType": "npm",
      "identifier": "@acme/weather-mcp",
      "version": "1.0.0",
      "transport": {"type": "carrier-pigeon"}
    }
  ]
}
"""


def mcpreg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCPREG_")}
    return subprocess.run(
        [MCPREG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


# -- local validation (no registry involved, so it runs once) ---------------------------------------


def test_validate_accepts_a_valid_server_json_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text(json.dumps(server_doc(), indent=2))
    done = mcpreg("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "io.github.acme/weather 1.0.0" in done.stdout


def test_validate_points_at_the_failing_field_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(BAD)
    report = mcpreg("validate", "bad.json", "--json", cwd=tmp_path)
    assert report.returncode == 1
    found = {(e["field"], e["rule"], e["line"]) for e in json.loads(report.stdout)["errors"]}
    assert found == {
        ("/name", "pattern", 2),
        ("/version", "semver", 4),
        ("/packages/0/transport/type", "enum", 10),
    }
    human = mcpreg("validate", "bad.json", cwd=tmp_path)
    assert human.returncode == 1
    assert "bad.json:10: /packages/0/transport/type" in human.stderr
    assert "drop the leading v" in human.stderr


# -- against the registry ------------------------------------------------------------------------------


@pytest.fixture
def admin(served: Served) -> Iterator[Registry]:
    """The Python client, for set-up that is not under test (it costs no subprocess)."""
    with Registry(served.url, token=served.admin_token, cache_ttl=0) as registry:
        yield registry


def test_login_saves_the_token_in_a_file_only_its_owner_can_read(served: Served) -> None:
    login = served.run("login", "--json", token=None, input=served.admin_token + "\n")
    assert login.code == 0, login.stderr
    path = served.home / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["registries"][served.url]["token"] == served.admin_token
    assert served.admin_token not in login.stdout
    who = served.run("whoami", "--json", token=None)
    assert who.code == 0, who.stderr
    assert who.json()["name"] == "cli-admin"


def test_publishing_releases_drafts_and_channels_then_reading_them_back(served: Served) -> None:
    name = "io.github.acme/weather"
    stable = served.write("server.json", server_doc(name, "1.0.0"))
    rc = served.write("rc.json", server_doc(name, "1.1.0-rc.1"))
    draft = served.write("draft.json", server_doc(name, "1.1.0"))
    assert served.run("publish", str(stable)).code == 0
    assert served.run("publish", str(rc), "--channel", "next").code == 0
    stored = served.run("publish", str(draft), "--draft", "--json")
    assert stored.code == 0, stored.stderr
    assert stored.json()["_meta"]["dev.mcpreg/release"]["state"] == "draft"

    listed = served.run("versions", name, "--json").json()
    facts = [(v["server"]["version"], v["_meta"]["dev.mcpreg/release"]["state"]) for v in listed]
    assert facts == [("1.1.0", "draft"), ("1.1.0-rc.1", "active"), ("1.0.0", "active")]
    assert served.run("show", f"{name}@next", "--json").json()["server"]["version"] == "1.1.0-rc.1"
    shown = served.run("show", name)
    assert shown.code == 0
    assert "1.0.0" in shown.stdout and "@acme/weather-mcp" in shown.stdout


def test_a_refused_publish_prints_the_code_and_field_and_exits_1(served: Served, admin: Registry) -> None:
    admin.publish(server_doc("io.github.acme/again", "1.0.0"))
    path = served.write("again.json", server_doc("io.github.acme/again", "1.0.0"))
    again = served.run("publish", str(path))
    assert again.code == 1
    assert "version_exists" in again.stderr and "field: /version" in again.stderr
    assert "Traceback" not in again.stderr


def test_publish_checks_the_file_locally_and_sends_nothing_invalid(served: Served) -> None:
    path = served.home / "bad.json"
    path.write_text(BAD)
    done = served.run("publish", str(path))
    assert done.code == 1
    assert "bad.json:10:" in done.stderr and "nothing was sent" in done.stderr


def test_diff_colours_additions_deletions_and_edits_and_gives_raw_json(
    served: Served, admin: Registry
) -> None:
    name = "io.github.acme/differ"
    old = server_doc(name, "1.0.0", websiteUrl="https://old.example.com")
    new = server_doc(name, "2.0.0", title="Differ")
    new["description"] = "Changed"
    admin.publish(old)
    admin.publish(new)
    raw = served.run("diff", name, "1.0.0", "2.0.0", "--json")
    ops = {c["path"]: c["op"] for c in raw.json()["changes"]}
    assert ops["/title"] == "added" and ops["/websiteUrl"] == "removed" and ops["/description"] == "changed"
    coloured = served.run("diff", name, "1.0.0", "2.0.0", env={"FORCE_COLOR": "1", "TERM": "xterm-256color"})
    lines = coloured.stdout.splitlines()
    assert any(GREEN in line and "+ /title" in line for line in lines)
    assert any(RED in line and "- /websiteUrl" in line for line in lines)
    assert any(BLUE in line and "~ /description" in line for line in lines)


def test_channels_move_and_disappear(served: Served, admin: Registry) -> None:
    name = "io.github.acme/channels"
    for version in ("1.0.0", "2.0.0"):
        admin.publish(server_doc(name, version))
    moved = served.run("channel", "set", name, "beta", "1.0.0", "--json")
    assert moved.json()["version"] == "1.0.0"
    assert served.run("channel", "rm", name, "beta").code == 0
    gone = served.run("show", f"{name}@beta")
    assert gone.code == 1 and "version_not_found" in gone.stderr


def test_deprecate_delete_restore_and_duplicate_a_release(served: Served, admin: Registry) -> None:
    name = "io.github.acme/lifecycle"
    admin.publish(server_doc(name, "1.0.0"))
    deprecated = served.run("deprecate", f"{name}@1.0.0", "--message", "use 2.x", "--json").json()
    official = deprecated["_meta"]["io.modelcontextprotocol.registry/official"]
    assert (official["status"], official["statusMessage"]) == ("deprecated", "use 2.x")
    assert served.run("delete", f"{name}@1.0.0").code == 0
    restored = served.run("restore", f"{name}@1.0.0", "--json").json()
    assert restored["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == "active"
    copy = served.run("duplicate", f"{name}@1.0.0", "1.0.1", "--json").json()
    assert (copy["server"]["version"], copy["_meta"]["dev.mcpreg/release"]["state"]) == ("1.0.1", "draft")


def test_deleting_a_running_release_needs_force_and_deprecating_one_says_where_it_runs(
    served: Served, admin: Registry
) -> None:
    name = "io.github.acme/running"
    admin.publish(server_doc(name, "1.0.0"))
    admin.deploy(name, "1.0.0", "staging")
    deprecated = served.run("deprecate", f"{name}@1.0.0", "--message", "use 2.x")
    assert deprecated.code == 0, deprecated.stderr
    assert "still runs in staging (stable)" in deprecated.stdout
    refused = served.run("delete", f"{name}@1.0.0")
    assert refused.code == 1
    assert "release_in_use" in refused.stderr and "staging (stable)" in refused.stderr
    forced = served.run("delete", f"{name}@1.0.0", "--force")
    assert forced.code == 0, forced.stderr
    assert "deleted" in forced.stdout and "still runs in staging (stable)" in forced.stdout


def test_a_missing_version_is_a_usage_error_exiting_2(served: Served) -> None:
    done = served.run("deprecate", "io.github.acme/lifecycle")
    assert done.code == 2
    assert "NAME@VERSION" in done.stderr


def test_a_token_outside_the_namespace_is_refused(served: Served) -> None:
    token = served.token("other-publisher", ["publish"], namespaces=["io.github.other/*"])
    done = served.run("publish", str(served.write("n.json", server_doc("io.github.acme/ns"))), token=token)
    assert done.code == 1
    assert "namespace_denied" in done.stderr


def test_an_unreachable_registry_is_reported_without_a_traceback(served: Served) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = served.run("versions", "io.github.acme/weather", "--url", f"http://127.0.0.1:{port}")
    assert done.code == 1
    assert f"cannot reach http://127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_registry_command_starts_without_loading_the_database_layer(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from mcpreg.cli.main import app\n"
        "try:\n"
        "    app(['validate', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'starlette', 'uvicorn') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [str(Path(MCPREG).with_name("python")), "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
