"""Environments, deployments, rollouts, rollback, resolve and history over HTTP, on the app in
process with its scheduler running (tiny pauses, bounded waits; nothing sleeps blindly)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import make_token, publish, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.waiting import wait_until

NAME = "io.github.acme/weather"
SERVER = "io.github.acme/weather"
TARGET = f"/api/environments/production/servers/{SERVER}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def released(app_api: httpx.Client) -> httpx.Client:
    for version in ("1.0.0", "1.1.0", "1.2.0", "2.0.0-rc.1"):
        publish(app_api, server_doc(version=version))
    return app_api


def deploy(client: httpx.Client, env: str, version: str, **body: Any) -> httpx.Response:
    return client.post(
        f"/api/environments/{env}/deployments", json={"server": NAME, "version": version, **body}
    )


def test_environments_are_listed_in_promotion_order_and_admins_change_them(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    listed = app_anon.get("/api/environments").json()["environments"]
    assert [(e["name"], e["protected"], e["allowPrereleases"]) for e in listed] == [
        ("dev", False, True),
        ("staging", False, True),
        ("production", True, False),
    ]
    created = app_api.post("/api/environments", json={"name": "qa", "position": 2, "requiresApproval": True})
    assert created.status_code == 201 and created.json()["position"] == 2
    patched = app_api.patch("/api/environments/production", json={"allowPrereleases": True})
    assert patched.json()["allowPrereleases"] is True
    assert [e["name"] for e in app_anon.get("/api/environments").json()["environments"]] == [
        "dev",
        "staging",
        "qa",
        "production",
    ]
    assert app_anon.get("/api/environments/qa").json()["requiresApproval"] is True
    assert_problem(app_anon.post("/api/environments", json={"name": "x"}), 401, "unauthenticated")
    assert_problem(app_api.get("/api/environments/moon"), 404, "environment_not_found")
    assert_problem(app_api.post("/api/environments", json={"name": "qa"}), 409, "environment_exists", "name")


def test_a_staged_rollout_advances_by_itself_waits_at_manual_and_finishes_atomically(
    released: httpx.Client, app_anon: httpx.Client
) -> None:
    app_api = released
    assert deploy(app_api, "production", "1.0.0", notes="first").status_code == 201
    steps = [{"weight": 10, "pause": "1s"}, {"weight": 50, "pause": "manual"}]
    started = deploy(app_api, "production", "1.1.0", strategy="staged", steps=steps)
    assert started.status_code == 201, started.text
    current = started.json()["current"]
    assert (current["stable"], current["canary"], current["weight"]) == ("1.0.0", "1.1.0", 10)
    assert current["nextStepAt"] is not None
    at_manual = wait_until(lambda: (r := app_anon.get(f"{TARGET}/rollout").json())["weight"] == 50 and r)
    assert (at_manual["status"], at_manual["step"], at_manual["nextStepAt"]) == ("paused_manual", 1, None)
    done = app_api.post(f"{TARGET}/rollout/promote", json={"notes": "looks good"})
    assert done.status_code == 200, done.text
    assert (done.json()["stable"], done.json()["canary"], done.json()["status"]) == (
        "1.1.0",
        None,
        "completed",
    )
    history = app_api.get(f"{TARGET}/history").json()["events"]
    assert [e["action"] for e in history] == ["complete", "step", "deploy", "deploy"]
    assert [e["actor"] for e in history] == ["admin-test", "system", "admin-test", "admin-test"]
    assert history[0]["notes"] == "looks good" and history[0]["replaced"] == "1.0.0"
    assert history[2]["strategy"] == "staged" and history[3]["notes"] == "first"
    journal = app_api.get("/api/audit", params={"action": "deploy.", "environment": "production"}).json()
    assert [e["action"] for e in journal["entries"]] == [f"deploy.{e['action']}" for e in history]


def test_pause_resume_and_abort_over_http(released: httpx.Client) -> None:
    app_api = released
    deploy(app_api, "production", "1.0.0")
    deploy(app_api, "production", "1.1.0", strategy="staged", steps="5:1h,50:1h")
    paused = app_api.post(f"{TARGET}/rollout/pause")
    assert paused.json()["status"] == "paused"
    assert_problem(app_api.post(f"{TARGET}/rollout/pause"), 409, "rollout_already_paused")
    assert app_api.post(f"{TARGET}/rollout/resume").json()["status"] == "progressing"
    aborted = app_api.post(f"{TARGET}/rollout/abort", json={"notes": "latency"})
    assert (aborted.json()["weight"], aborted.json()["stable"], aborted.json()["status"]) == (
        0,
        "1.0.0",
        "aborted",
    )
    assert_problem(app_api.post(f"{TARGET}/rollout/promote", json={"full": True}), 409, "rollout_not_active")
    assert_problem(
        app_api.post(f"{TARGET}/rollout/promote", json={"full": "yes"}), 422, "validation_failed", "full"
    )
    assert app_api.get(f"{TARGET}/resolve", params={"client": "anyone"}).json()["version"] == "1.0.0"


def test_deploy_refusals_carry_stable_codes_and_fields(
    released: httpx.Client, app_server: InProcess, engine: sa.Engine
) -> None:
    app_api = released
    app_api.post(f"/api/servers/{SERVER}/drafts", json=server_doc(version="3.0.0"))
    app_api.delete(f"/v0.1/servers/{SERVER.replace('/', '%2F')}/versions/1.2.0")
    assert_problem(deploy(app_api, "dev", "3.0.0"), 409, "release_is_draft", "version")
    assert_problem(deploy(app_api, "dev", "1.2.0"), 409, "release_deleted", "version")
    assert_problem(deploy(app_api, "production", "2.0.0-rc.1"), 409, "prerelease_not_allowed", "version")
    bad_steps = [{"weight": 5, "pause": "1m"}, {"weight": 25}]
    assert_problem(
        deploy(app_api, "dev", "1.0.0", strategy="staged", steps=bad_steps),
        422,
        "validation_failed",
        "steps[1].pause",
    )
    assert_problem(deploy(app_api, "dev", "1.0.0", strategy="rainbow"), 422, "invalid_strategy", "strategy")
    assert_problem(deploy(app_api, "dev", "1.0.0", strategy="canary"), 422, "validation_failed", "weight")
    publisher = app_server.client(make_token(engine, "pub", ["publish"]))
    staging_only = make_token(engine, "stage", ["deploy"], environments=["staging"])
    with publisher:
        assert deploy(publisher, "dev", "1.0.0").status_code == 201
        assert_problem(deploy(publisher, "production", "1.0.0"), 403, "environment_protected")
        assert_problem(
            publisher.post(f"/api/environments/production/servers/{SERVER}/rollback"),
            403,
            "environment_protected",
        )
    with app_server.client(staging_only) as stager:
        assert_problem(deploy(stager, "production", "1.0.0"), 403, "environment_denied")
        assert deploy(stager, "staging", "1.0.0").status_code == 201


def test_approval_over_http_needs_another_principal(
    released: httpx.Client, app_server: InProcess, engine: sa.Engine
) -> None:
    app_api = released
    app_api.patch("/api/environments/production", json={"requiresApproval": True})
    other = make_token(engine, "bob", ["deploy"])
    pending = deploy(app_api, "production", "1.0.0")
    assert pending.status_code == 201
    deployment = pending.json()["deployment"]
    assert deployment["state"] == "pending_approval" and pending.json()["current"]["stable"] is None
    approve = f"/api/environments/production/deployments/{deployment['id']}/approve"
    assert_problem(app_api.post(approve), 403, "self_approval")
    listed = app_api.get(
        "/api/environments/production/deployments", params={"state": "pending_approval"}
    ).json()
    assert [d["id"] for d in listed["deployments"]] == [deployment["id"]]
    with app_server.client(other) as bob:
        approved = bob.post(approve, json={"notes": "ok by me"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["deployment"]["approvedBy"], approved.json()["current"]["stable"]) == (
        "bob",
        "1.0.0",
    )
    assert_problem(app_api.post(approve), 409, "not_pending_approval")
    got = app_api.get(f"/api/environments/production/deployments/{deployment['id']}").json()
    assert got["deployment"]["state"] == "applied"


def test_a_scheduled_deployment_starts_at_its_time(released: httpx.Client) -> None:
    app_api = released
    deploy(app_api, "dev", "1.0.0")
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    scheduled = deploy(app_api, "dev", "1.1.0", scheduled_at=soon)
    assert scheduled.json()["deployment"]["state"] == "scheduled"
    assert scheduled.json()["current"]["stable"] == "1.0.0"
    wait_until(
        lambda: app_api.get(f"/api/environments/dev/servers/{SERVER}/rollout").json()["stable"] == "1.1.0"
    )
    deployment = app_api.get(
        f"/api/environments/dev/deployments/{scheduled.json()['deployment']['id']}"
    ).json()
    assert deployment["deployment"]["state"] == "applied"


def test_promotion_forced_promotion_and_where(released: httpx.Client, app_anon: httpx.Client) -> None:
    app_api = released
    deploy(app_api, "dev", "1.0.0")
    promote = f"/api/servers/{SERVER}/versions/1.0.0/promote"
    assert_problem(app_api.post(promote, json={"from": "staging"}), 404, "no_deployment", "from")
    assert_problem(
        app_api.post(promote, json={"from": "dev", "to": "production"}), 409, "promotion_skips_environment"
    )
    forced = app_api.post(promote, json={"from": "dev", "to": "production", "force": True, "notes": "hotfix"})
    assert forced.status_code == 201, forced.text
    assert forced.json()["deployment"]["forced"] is True
    assert app_api.post(promote, json={"from": "dev"}).json()["current"]["stable"] == "1.0.0"
    deploy(app_api, "dev", "1.1.0")
    deploy(app_api, "production", "1.1.0", strategy="canary", weight=20)
    where = app_anon.get(f"/api/servers/{SERVER}/deployments").json()
    assert [(e["environment"], e["stable"], e["canary"], e["weight"]) for e in where["environments"]] == [
        ("dev", "1.1.0", None, 0),
        ("staging", "1.0.0", None, 0),
        ("production", "1.0.0", "1.1.0", 20),
    ]
    event = app_api.get("/api/environments/production/history", params={"action": "promote"}).json()[
        "events"
    ][0]
    assert (event["forced"], event["fromEnvironment"], event["detail"]) == (
        True,
        "dev",
        {"skipped": ["staging"]},
    )
    servers = app_anon.get("/api/environments/production/servers").json()["servers"]
    assert [(s["server"], s["stable"]) for s in servers] == [(NAME, "1.0.0")]


def test_rollback_and_resolve(released: httpx.Client, app_anon: httpx.Client) -> None:
    app_api = released
    assert_problem(app_api.get(f"{TARGET}/resolve"), 404, "no_deployment")
    deploy(app_api, "production", "1.0.0")
    deploy(app_api, "production", "1.1.0")
    resolved = app_api.get(f"{TARGET}/resolve", params={"client": "c-1"}).json()
    assert (resolved["version"], resolved["track"], resolved["weight"]) == ("1.1.0", "stable", 0)
    assert resolved["environment"] == "production" and "config" in resolved
    assert_problem(app_anon.get(f"{TARGET}/resolve"), 401, "unauthenticated")
    back = app_api.post(f"{TARGET}/rollback", json={"notes": "500s"})
    assert back.status_code == 200, back.text
    assert (back.json()["stable"], back.json()["lastKnownGood"]) == ("1.0.0", None)
    assert_problem(app_api.post(f"{TARGET}/rollback"), 409, "no_rollback_target", "version")
    assert app_api.post(f"{TARGET}/rollback", json={"version": "1.1.0"}).json()["stable"] == "1.1.0"
    assert_problem(app_api.post(f"{TARGET}/rollback", json={"colour": 1}), 422, "unknown_field", "colour")
    events = app_api.get(f"{TARGET}/history").json()["events"]
    assert [(e["action"], e["version"], e["replaced"]) for e in events[:2]] == [
        ("rollback", "1.1.0", "1.0.0"),
        ("rollback", "1.0.0", "1.1.0"),
    ]


def test_a_rollback_to_a_version_that_never_ran_there_is_a_problem_naming_version(
    released: httpx.Client,
) -> None:
    app_api = released
    deploy(app_api, "production", "1.0.0")
    deploy(app_api, "staging", "1.2.0")
    body = assert_problem(
        app_api.post(f"{TARGET}/rollback", json={"version": "1.2.0"}), 409, "not_a_rollback_target", "version"
    )
    assert "deploy" in body["detail"]
    assert app_api.get(f"{TARGET}/rollout").json()["stable"] == "1.0.0"


def test_a_deploy_scheduled_in_the_past_is_a_problem_naming_scheduled_at(released: httpx.Client) -> None:
    app_api = released
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert_problem(
        deploy(app_api, "dev", "1.0.0", scheduled_at=past), 422, "scheduled_in_past", "scheduled_at"
    )
    assert_problem(deploy(app_api, "dev", "1.0.0", scheduledAt=past), 422, "scheduled_in_past", "scheduledAt")
    assert app_api.get("/api/environments/dev/deployments").json()["deployments"] == []


def test_where_names_who_made_each_stable_version_stable(
    released: httpx.Client, app_server: InProcess, engine: sa.Engine
) -> None:
    app_api = released
    deploy(app_api, "production", "1.0.0")
    deploy(app_api, "production", "1.1.0", strategy="canary", weight=10)
    with app_server.client(make_token(engine, "carol", ["deploy"])) as carol:
        assert carol.post(f"{TARGET}/rollout/promote", json={"full": True}).status_code == 200
    rows = {
        e["environment"]: e for e in app_api.get(f"/api/servers/{SERVER}/deployments").json()["environments"]
    }
    assert (rows["production"]["stable"], rows["production"]["deployedBy"]) == ("1.1.0", "carol")
