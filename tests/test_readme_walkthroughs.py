"""The README's walkthroughs, executed as written, top to bottom, on a fresh ``make run``.

The blocks are read from README.md at run time, in the order a reader meets them, in
one shell session (``tests/support/walkthrough.py``). A README line that cannot run here
says so itself with ``# not run by the walkthrough test: <reason>``; that set stays small.
The files the publisher walkthrough names (server.json, rc.json, next.json) and key.txt
are written into the working directory from the sample catalogue, as the README says.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpreg.client import Registry
from tests.conftest import ROOT
from tests.support.readme import NOT_RUN, Block, blocks
from tests.support.walkthrough import VENV_BIN, MakeRun, Terminal

README = ROOT / "README.md"
S = "io.github.acme/weather"

# The walkthroughs, in README order; each is every sh/python block under that heading.
WALKTHROUGHS = (
    "Walkthrough: a staged rollout, from first deploy to rollback",
    "Connecting",
    "Publisher walkthrough",
    "Ops walkthrough",
    "The Python client",
)
# The few README lines the test may skip, each marked in the README itself.
MOST_SKIPPED = 6


def catalogue_release(version: str) -> dict[str, Any]:
    releases = json.loads((ROOT / "registry-data" / "catalogue.json").read_text())
    return next(r for r in releases if r["name"] == S and r["version"] == version)


def renumbered(document: dict[str, Any], version: str) -> dict[str, Any]:
    """A sample release as the next one would be: the same document under ``version``."""
    doc = copy.deepcopy(document)
    old = doc["version"]
    doc["version"] = version
    for package in doc.get("packages", []):
        if package.get("version") == old:
            package["version"] = version
        package["identifier"] = package["identifier"].replace(f":{old}", f":{version}")
    return doc


def write_walkthrough_files(workdir: Path) -> None:
    """What the README says the reader has: their server.json, an rc, the next one, a key."""
    latest = catalogue_release("1.2.0")
    files = {"server.json": "1.3.0", "rc.json": "2.0.0-rc.1", "next.json": "1.4.0"}
    for name, version in files.items():
        (workdir / name).write_text(json.dumps(renumbered(latest, version), indent=2) + "\n")
    (workdir / "key.txt").write_text("wk-test-0123456789\n")


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    with MakeRun(tmp_path_factory.mktemp("make-run"), ROOT) as served:
        write_walkthrough_files(served.workdir)
        yield served


class Reader:
    """Follows the README in one terminal and looks at the registry between walkthroughs."""

    def __init__(self, served: MakeRun) -> None:
        self.terminal = Terminal(served)
        self.http = httpx.Client(base_url=served.url, timeout=30)

    def follow(self, heading: str) -> str:
        """Run every block under ``heading``; each must exit 0. Their stdout, joined."""
        found = blocks(README, heading)
        assert found, f"README.md has no runnable block under {heading!r}"
        printed = []
        for block in found:
            outcome = self.terminal.run(block)
            assert outcome.code == 0, outcome.explain()
            printed.append(outcome.stdout)
        return "\n".join(printed)

    def get(self, path: str, token: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = self.http.get(path, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def rollout(self, env: str) -> dict[str, Any]:
        return self.get(f"/api/environments/{env}/servers/{S}/rollout")  # type: ignore[no-any-return]

    def history(self, env: str, token: str) -> list[dict[str, Any]]:
        """Newest first, without the health prober's events (the sample servers' remotes are
        not reachable from here, so the prober records them degrading meanwhile)."""
        events = self.get(f"/api/environments/{env}/servers/{S}/history", token)["events"]
        return [e for e in events if e["action"] != "health"]


def test_the_readme_marks_few_lines_as_not_run_and_says_why() -> None:
    marked = [line for heading in WALKTHROUGHS for b in blocks(README, heading) for line in b.skipped]
    assert len(marked) <= MOST_SKIPPED, marked
    for line in marked:
        assert line.split(NOT_RUN, 1)[1].strip(), f"a reason is given: {line}"


def test_a_marked_line_becomes_a_no_op_that_keeps_the_line_numbers() -> None:
    marked = f"mcpreg login --url https://x.example  {NOT_RUN} prompts"
    block = Block("demo", "sh", f"echo one\n  {marked}\necho two", 1)
    assert block.runnable() == "echo one\n  : skipped\necho two\n"
    assert block.skipped == [marked]
    continued = Block("demo", "sh", f"curl -s \\\n  http://x.example  {NOT_RUN} no", 1)
    with pytest.raises(ValueError):
        continued.runnable()


@pytest.mark.slow
def test_every_walkthrough_runs_as_written_on_a_fresh_make_run(make_run: MakeRun) -> None:
    reader = Reader(make_run)
    staged, connecting, publisher, ops, python = WALKTHROUGHS
    assert reader.terminal.which("mcpreg") == str(VENV_BIN / "mcpreg"), "mcpreg is the venv's, on PATH"

    # curl: deploy 1.0.0, stage 1.1.0, promote twice (25%, then 100%), roll back, then promote.
    reader.follow(staged)
    bot = reader.terminal.variable("MCPREG_TOKEN")
    assert bot.startswith("mcpreg_"), "the README's own tokens create line made the token"
    events = reader.history("production", bot)
    assert [(e["action"], e["version"]) for e in events] == [
        ("promote", "1.2.0"),
        ("promote", "1.1.0"),
        ("rollback", "1.0.0"),
        ("complete", "1.1.0"),
        ("step", "1.1.0"),
        ("deploy", "1.1.0"),
        ("deploy", "1.0.0"),
    ]
    forced, promoted, rollback, _complete, step = events[:5]
    assert step["weight"] == 25, "the first promote goes to the 25% step, as the README says"
    assert (rollback["stable"], rollback["canary"], rollback["replaced"]) == ("1.0.0", None, "1.1.0")
    assert (promoted["fromEnvironment"], promoted["forced"]) == ("staging", False)
    assert (forced["fromEnvironment"], forced["forced"]) == ("dev", True)
    assert reader.rollout("production")["stable"] == "1.2.0"

    # Connecting: log in from stdin, whoami, log out.
    assert "release-bot" in reader.follow(connecting)

    # Publisher: validate and publish 1.3.0, an rc on `next`, two drafts, channels, lifecycle.
    printed = reader.follow(publisher)
    assert "published io.github.acme/weather 1.3.0 (latest)" in printed
    acme = reader.terminal.variable("MCPREG_TOKEN")
    with Registry(make_run.url, token=acme, cache_ttl=0) as registry:
        states = {r.version: r.status for r in registry.versions(S)}
        channels = {c["channel"]: c["version"] for c in registry.channels(S)}
    assert (states["1.3.1"], states["1.4.0"]) == ("draft", "draft")
    assert states["1.2.0"] == "active", "deprecated, deleted (--force: it runs), restored"
    assert channels == {"latest": "1.3.0", "next": "2.0.0-rc.1"}

    # Ops: qa at position 2 sits before production, so `promote --from staging` goes to qa.
    printed = reader.follow(ops)
    names = [e["name"] for e in reader.get("/api/environments")["environments"]]
    assert names == ["dev", "staging", "qa", "production"]
    admin = reader.terminal.variable("ADMIN_TOKEN")
    assert reader.history("qa", admin)[0]["fromEnvironment"] == "staging"
    actions = [(e["action"], e["actor"]) for e in reader.history("production", admin)]
    assert ("approve", "ops-2") in actions, "the second principal approved"
    assert actions[0] == ("rollback", "ops")
    assert reader.rollout("production")["stable"] == "1.0.0", "rollback --to 1.0.0"
    assert reader.rollout("staging")["status"] == "aborted"
    assert "********" in printed and "wk-test-0123456789" in printed, "masked, then revealed"

    # The Python client, anonymous: production runs 1.0.0 and no canary.
    assert reader.follow(python).splitlines()[0] == "1.0.0 stable"
