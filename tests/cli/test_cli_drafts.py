"""``mcpreg draft create|edit|publish`` as real subprocesses against a real ``mcpreg serve``."""

from __future__ import annotations

import json
import os
import pty
import sys
import time
from pathlib import Path

from mcpreg.client import Registry
from tests.cli.test_cli_config import _read
from tests.conftest import server_doc
from tests.support.served import MCPREG, Served

EDITOR_SCRIPT = """
import json, sys
path = sys.argv[1]
doc = json.load(open(path, encoding="utf-8"))
doc["description"] = "Edited in the editor"
json.dump(doc, open(path, "w", encoding="utf-8"), indent=2)
"""


def state_of(served: Served, name: str, version: str) -> tuple[str, str]:
    """(state, description) of a release, read with the admin token (drafts are private)."""
    with Registry(served.url, token=served.admin_token, cache_ttl=0) as admin:
        release = admin.get_server(name, version=version)
    return release.status, release.description


def test_a_draft_is_created_edited_from_a_file_and_stdin_then_published(served: Served) -> None:
    name = "io.github.acme/drafted"
    created = served.run("draft", "create", str(served.write("d.json", server_doc(name, "1.0.0"))))
    assert created.code == 0, created.stderr
    assert f"mcpreg draft publish {name}@1.0.0" in created.stdout
    assert state_of(served, name, "1.0.0")[0] == "draft"
    assert served.run("show", f"{name}@1.0.0", token=None).code == 1, "a draft is invisible to the public"

    edited = server_doc(name, "1.0.0")
    edited["description"] = "Edited from a file"
    done = served.run("draft", "edit", f"{name}@1.0.0", str(served.write("e.json", edited)))
    assert done.code == 0, done.stderr
    assert state_of(served, name, "1.0.0") == ("draft", "Edited from a file")

    edited["description"] = "Edited from stdin"
    piped = served.run("draft", "edit", f"{name}@1.0.0", input=json.dumps(edited))
    assert piped.code == 0, piped.stderr
    assert state_of(served, name, "1.0.0") == ("draft", "Edited from stdin")

    published = served.run("draft", "publish", f"{name}@1.0.0", "--json")
    assert published.code == 0, published.stderr
    assert published.json()["_meta"]["dev.mcpreg/release"]["state"] == "active"
    assert (
        served.run("show", name, "--json", token=None).json()["server"]["description"] == "Edited from stdin"
    )


def test_a_published_release_is_not_edited_and_not_published_twice(served: Served) -> None:
    name = "io.github.acme/immutable"
    with Registry(served.url, token=served.admin_token, cache_ttl=0) as admin:
        admin.publish(server_doc(name, "1.0.0"))
    again = served.run("draft", "publish", f"{name}@1.0.0")
    assert again.code == 1 and "not_a_draft" in again.stderr and "argument: NAME@VERSION" in again.stderr
    edited = served.run(
        "draft", "edit", f"{name}@1.0.0", str(served.write("i.json", server_doc(name, "1.0.0")))
    )
    assert edited.code == 1 and "immutable_release" in edited.stderr


def test_a_draft_keeps_its_version_and_invalid_edits_are_never_sent(served: Served) -> None:
    name = "io.github.acme/kept"
    assert served.run("draft", "create", str(served.write("k.json", server_doc(name, "1.0.0")))).code == 0
    other = served.run(
        "draft", "edit", f"{name}@1.0.0", str(served.write("k2.json", server_doc(name, "2.0.0")))
    )
    assert other.code == 1
    assert f"{name}@2.0.0, not {name}@1.0.0" in other.stderr and "mcpreg duplicate" in other.stderr
    bad = server_doc(name, "1.0.0")
    bad["packages"][0]["transport"] = {"type": "carrier-pigeon"}
    invalid = served.run("draft", "edit", f"{name}@1.0.0", str(served.write("k3.json", bad)))
    assert invalid.code == 1 and "nothing was sent" in invalid.stderr
    assert state_of(served, name, "1.0.0")[0] == "draft"
    missing = served.run("draft", "publish", name)
    assert missing.code == 2 and "NAME@VERSION" in missing.stderr


def test_at_a_terminal_draft_edit_opens_the_editor_and_sends_what_was_saved(
    served: Served, tmp_path: Path
) -> None:
    name = "io.github.acme/editor"
    assert served.run("draft", "create", str(served.write("ed.json", server_doc(name, "1.0.0")))).code == 0
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT)
    env = served.env(served.admin_token, {"EDITOR": f"{sys.executable} {script}", "VISUAL": ""})
    pid, terminal = pty.fork()
    if pid == 0:  # the child: mcpreg on a pseudo-terminal of its own
        os.execve(MCPREG, [MCPREG, "draft", "edit", f"{name}@1.0.0"], env)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        chunk = _read(terminal)
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert b"updated draft" in seen
    assert state_of(served, name, "1.0.0") == ("draft", "Edited in the editor")
