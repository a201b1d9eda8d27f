"""Environments, deploy, canary, staged rollouts, promote, approve and rollback through the CLI.

Set-up that is not under test (publishing, a first deployment) goes through the Python
client in process, so only the commands under test cost a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mcpreg.client import Registry
from tests.conftest import server_doc
from tests.support.served import Served


@pytest.fixture
def admin(served: Served) -> Iterator[Registry]:
    with Registry(served.url, token=served.admin_token, cache_ttl=0) as registry:
        yield registry


def published(admin: Registry, name: str, *versions: str) -> str:
    for version in versions:
        admin.publish(server_doc(name, version))
    return name


def test_environments_are_listed_created_and_updated(served: Served) -> None:
    names = [e["name"] for e in served.run("env", "list", "--json").json()]
    assert names[:3] == ["dev", "staging", "production"]
    created = served.run("env", "create", "lab", "--description", "experiments", "--json").json()
    assert (created["name"], created["position"], created["description"]) == (
        "lab",
        len(names),
        "experiments",
    )
    updated = served.run("env", "update", "lab", "--requires-approval", "--no-prereleases", "--json").json()
    assert (updated["requiresApproval"], updated["allowPrereleases"]) == (True, False)


def test_a_canary_is_deployed_watched_and_promoted_in_full(served: Served, admin: Registry) -> None:
    name = published(admin, "io.github.acme/canary", "1.0.0", "1.1.0")
    first = served.run("deploy", f"{name}@1.0.0", "--env", "staging")
    assert first.code == 0, first.stderr
    canary = served.run("deploy", f"{name}@1.1.0", "--env", "staging", "--canary", "10", "--json").json()
    assert canary["deployment"]["strategy"] == "canary"
    assert (canary["current"]["stable"], canary["current"]["canary"], canary["current"]["weight"]) == (
        "1.0.0",
        "1.1.0",
        10,
    )
    status = served.run("rollout", "status", name, "--env", "staging")
    assert "canary 10% / stable 90%" in status.stdout
    assert "waits for `mcpreg rollout promote`" in status.stdout
    promoted = served.run("rollout", "promote", name, "--env", "staging", "--full", "--json").json()
    assert (promoted["stable"], promoted["status"]) == ("1.1.0", "completed")


def test_a_staged_rollout_advances_by_itself_until_the_watch_sees_it_complete(
    served: Served, admin: Registry
) -> None:
    name = published(admin, "io.github.acme/staged", "1.0.0", "1.1.0")
    admin.deploy(name, "1.0.0", "dev")
    started = served.run("deploy", f"{name}@1.1.0", "--env", "dev", "--steps", "50:1s,100", "--notes", "go")
    assert started.code == 0, started.stderr
    watched = served.run("rollout", "status", name, "--env", "dev", "--watch", "--timeout", "30", "--json")
    assert watched.code == 0, watched.stderr
    assert (watched.json()["status"], watched.json()["stable"]) == ("completed", "1.1.0")


def test_a_rollout_is_paused_resumed_and_aborted_leaving_the_stable_serving(
    served: Served, admin: Registry
) -> None:
    name = published(admin, "io.github.acme/aborted", "1.0.0", "1.1.0")
    admin.deploy(name, "1.0.0", "staging")
    assert served.run("deploy", f"{name}@1.1.0", "--env", "staging", "--steps", "10:1h,100").code == 0
    paused = served.run("rollout", "pause", name, "--env", "staging", "--json").json()
    assert paused["status"] == "paused"
    assert (
        served.run("rollout", "resume", name, "--env", "staging", "--json").json()["status"] == "progressing"
    )
    aborted = served.run("rollout", "abort", name, "--env", "staging", "--json").json()
    assert (aborted["status"], aborted["weight"], aborted["stable"]) == ("aborted", 0, "1.0.0")


def test_promotion_needs_force_to_skip_an_environment_and_defaults_to_the_next(
    served: Served, admin: Registry
) -> None:
    name = published(admin, "io.github.acme/promoted", "1.0.0")
    admin.deploy(name, "1.0.0", "dev")
    skipping = served.run("promote", name, "--from", "dev", "--to", "production")
    assert skipping.code == 1
    assert "promotion_skips_environment" in skipping.stderr and "option: --force" in skipping.stderr
    forced = served.run("promote", name, "--from", "dev", "--to", "production", "--force", "--json").json()
    assert (forced["deployment"]["forced"], forced["current"]["stable"]) == (True, "1.0.0")
    following = served.run("promote", name, "--from", "dev", "--json").json()
    assert following["deployment"]["environment"] == "staging"


def test_a_gated_deployment_waits_for_a_second_principal_to_approve(served: Served, admin: Registry) -> None:
    name = published(admin, "io.github.acme/gated", "1.0.0")
    admin.create_environment("gated", requiresApproval=True)
    pending = served.run("deploy", f"{name}@1.0.0", "--env", "gated", "--json").json()["deployment"]
    assert pending["state"] == "pending_approval"
    own = served.run("approve", str(pending["id"]))
    assert own.code == 1 and "self_approval" in own.stderr
    approver = served.token("approver", ["deploy"])
    approved = served.run("approve", str(pending["id"]), "--json", token=approver)
    assert approved.code == 0, approved.stderr
    assert (approved.json()["deployment"]["state"], approved.json()["current"]["stable"]) == (
        "applied",
        "1.0.0",
    )


def test_rollback_returns_to_the_last_good_version_and_history_and_where_show_it(
    served: Served, admin: Registry
) -> None:
    name = published(admin, "io.github.acme/rolled", "1.0.0", "1.1.0")
    admin.deploy(name, "1.0.0", "staging")
    admin.deploy(name, "1.1.0", "staging")
    back = served.run("rollback", name, "--env", "staging", "--notes", "errors up", "--json")
    assert back.code == 0, back.stderr
    assert back.json()["stable"] == "1.0.0"
    assert served.run("rollback", name, "--env", "staging", "--to", "1.1.0").code == 0
    events = served.run("history", name, "--env", "staging", "--json").json()["events"]
    assert [e["action"] for e in events] == ["rollback", "rollback", "deploy", "deploy"]
    assert events[1]["notes"] == "errors up" and events[1]["replaced"] == "1.1.0"
    where = {e["environment"]: e for e in served.run("where", name, "--json").json()["environments"]}
    assert where["staging"]["stable"] == "1.1.0" and where["production"]["stable"] is None


def test_a_deployment_can_be_scheduled(served: Served, admin: Registry) -> None:
    name = published(admin, "io.github.acme/later", "1.0.0")
    later = served.run("deploy", f"{name}@1.0.0", "--env", "dev", "--at", "+1h", "--json")
    assert later.code == 0, later.stderr
    assert later.json()["deployment"]["state"] == "scheduled"


def test_contradictory_or_malformed_strategies_are_usage_errors(served: Served) -> None:
    both = served.run(
        "deploy", "io.github.acme/x@1.0.0", "--env", "dev", "--canary", "10", "--steps", "5:1m,100"
    )
    assert both.code == 2 and "not both" in both.stderr
    forgotten = served.run("deploy", "io.github.acme/x@1.0.0", "--env", "dev", "--steps", "5,100")
    assert forgotten.code == 2 and "needs a pause" in forgotten.stderr


def test_a_deploy_at_a_time_in_the_past_is_a_usage_error_naming_at(served: Served, admin: Registry) -> None:
    name = published(admin, "io.github.acme/past", "1.0.0")
    past = served.run("deploy", f"{name}@1.0.0", "--env", "dev", "--at", "2020-01-31T18:00:00Z")
    assert past.code == 2 and "--at" in past.stderr and "in the past" in past.stderr
    assert "scheduled_at" not in past.stderr
    assert admin.deployments("dev", server=name) == []


def test_rollback_to_a_version_that_never_ran_there_is_refused(served: Served, admin: Registry) -> None:
    name = published(admin, "io.github.acme/never", "1.0.0", "1.1.0")
    admin.deploy(name, "1.0.0", "staging")
    refused = served.run("rollback", name, "--env", "staging", "--to", "1.1.0")
    assert refused.code == 1 and "not_a_rollback_target" in refused.stderr


def test_where_shows_who_made_the_stable_version_stable(served: Served, admin: Registry) -> None:
    name = published(admin, "io.github.acme/whomade", "1.0.0", "1.1.0")
    admin.deploy(name, "1.0.0", "staging")
    admin.deploy(name, "1.1.0", "staging", strategy="canary", weight=10)
    promoter = served.token("promoter", ["deploy"])
    assert served.run("rollout", "promote", name, "--env", "staging", "--full", token=promoter).code == 0
    rows = {e["environment"]: e for e in served.run("where", name, "--json").json()["environments"]}
    assert (rows["staging"]["stable"], rows["staging"]["deployedBy"]) == ("1.1.0", "promoter")
    assert "promoter" in served.run("where", name).stdout
