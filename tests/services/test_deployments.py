"""Deploy, promote, approve, schedule and their refusals, as services on both backends."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from mcpreg.db.tables import JournalEntry
from mcpreg.domain.deploy_requests import parse_deploy, parse_promote
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import environments, releases
from mcpreg.services.deploy import approvals, clock, deployments, routing
from mcpreg.services.deploy.states import find_state
from mcpreg.services.environments import get_environment
from tests.support.deploys import (
    ALICE,
    BOB,
    NAME,
    PAT,
    T0,
    actions,
    events,
    minutes,
    ok,
    prepare,
    refused,
    request,
)


@pytest.fixture
def db(session: Session) -> Session:
    return prepare(session)


def stable(session: Session, env: str) -> str | None:
    server = releases.get_server(session, NAME)
    state = find_state(session, server, get_environment(session, env))
    return state.stable_version if state else None


def promotion(**body: object) -> object:
    return parse_promote(body)


def test_an_immediate_deploy_serves_the_version_and_records_who_when_and_why(db: Session) -> None:
    deployment = ok(db, deployments.deploy, ALICE, "dev", request("1.0.0", notes="first"), now=T0)
    assert deployment.state == "applied"
    assert stable(db, "dev") == "1.0.0"
    ok(db, deployments.deploy, ALICE, "dev", request("1.1.0"), now=minutes(1))
    assert stable(db, "dev") == "1.1.0"
    first, second = events(db, "dev")
    assert (first.action, first.actor, first.version, first.replaced, first.notes) == (
        "deploy",
        "alice",
        "1.0.0",
        None,
        "first",
    )
    assert (second.version, second.replaced, second.strategy, second.seq) == (
        "1.1.0",
        "1.0.0",
        "immediate",
        2,
    )
    assert second.at == minutes(1)
    deployed = select(JournalEntry).where(JournalEntry.action == "deploy.deploy")
    journal = list(db.exec(deployed.order_by(col(JournalEntry.id))))
    assert [(j.version, j.environment, j.actor) for j in journal] == [
        ("1.0.0", "dev", "alice"),
        ("1.1.0", "dev", "alice"),
    ]


def test_only_active_releases_can_be_deployed(db: Session) -> None:
    releases.create_release(db, SYSTEM, {"name": NAME, "description": "d", "version": "3.0.0"}, draft=True)
    releases.set_status(db, SYSTEM, NAME, "1.1.0", "deleted")
    releases.set_status(db, SYSTEM, NAME, "1.2.0", "deprecated")
    db.commit()
    for version, code in (
        ("3.0.0", "release_is_draft"),
        ("1.1.0", "release_deleted"),
        ("1.2.0", "release_not_active"),
        ("9.9.9", "version_not_found"),
    ):
        assert refused(db, code, deployments.deploy, ALICE, "dev", request(version)).field == "version"
    refused(db, "server_not_found", deployments.deploy, ALICE, "dev", request("1.0.0", server="io.x/none"))
    refused(db, "environment_not_found", deployments.deploy, ALICE, "moon", request("1.0.0"))
    assert actions(db) == []


def test_pre_releases_go_only_where_the_environment_allows_them(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "staging", request("2.0.0-rc.1"))
    assert stable(db, "staging") == "2.0.0-rc.1"
    refused(db, "prerelease_not_allowed", deployments.deploy, ALICE, "production", request("2.0.0-rc.1"))
    environments.update_environment(db, SYSTEM, "production", {"allowPrereleases": True})
    db.commit()
    ok(db, deployments.deploy, ALICE, "production", request("2.0.0-rc.1"))


def test_a_protected_environment_refuses_a_token_without_deploy_on_it(db: Session) -> None:
    ok(db, deployments.deploy, PAT, "dev", request("1.0.0"))
    refused(db, "environment_protected", deployments.deploy, PAT, "production", request("1.0.0"))
    assert stable(db, "production") is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"strategy": "blue-green"}, "invalid_strategy", "strategy"),
        ({"strategy": "canary"}, "validation_failed", "weight"),
        ({"strategy": "canary", "weight": 100}, "validation_failed", "weight"),
        ({"strategy": "canary", "weight": "ten"}, "validation_failed", "weight"),
        ({"strategy": "staged"}, "validation_failed", "steps"),
        (
            {"strategy": "staged", "steps": [{"weight": 5, "pause": "1m"}, {"weight": 25}]},
            None,
            "steps[1].pause",
        ),
        ({"strategy": "staged", "steps": [{"weight": 5, "pause": "soon"}]}, None, "steps[0].pause"),
        (
            {"strategy": "staged", "steps": [{"weight": 50, "pause": "1m"}, {"weight": 5}]},
            None,
            "steps[1].weight",
        ),
        ({"weight": 5}, "validation_failed", "weight"),
        ({"steps": []}, "validation_failed", "steps"),
        ({"scheduled_at": "tomorrow"}, "validation_failed", "scheduled_at"),
        ({"scheduled_at": "2030-01-01T00:00:00"}, "validation_failed", "scheduled_at"),
        ({"notes": 7}, "validation_failed", "notes"),
        ({"colour": "red"}, "unknown_field", "colour"),
    ],
)
def test_bad_strategies_weights_and_steps_are_refused_naming_the_field(
    body: dict[str, object], code: str | None, field: str
) -> None:
    from mcpreg.errors import RegistryError

    with pytest.raises(RegistryError) as caught:
        parse_deploy({"server": NAME, "version": "1.0.0", **body})
    assert caught.value.field == field
    assert caught.value.code == (code or "validation_failed")


def test_promote_moves_what_runs_to_the_next_environment(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "dev", request("1.0.0"))
    done = ok(db, deployments.promote, ALICE, NAME, "1.0.0", promotion(**{"from": "dev"}))
    assert (done.environment, done.kind, done.from_environment, done.forced) == (
        "staging",
        "promotion",
        "dev",
        False,
    )
    assert stable(db, "staging") == "1.0.0"
    event = events(db, "staging")[-1]
    assert (event.action, event.from_environment, event.forced) == ("promote", "dev", False)


def test_promotion_refusals(db: Session) -> None:
    refused(db, "no_deployment", deployments.promote, ALICE, NAME, "1.0.0", promotion(**{"from": "dev"}))
    ok(db, deployments.deploy, ALICE, "dev", request("1.0.0"))
    skip = promotion(**{"from": "dev", "to": "production"})
    error = refused(db, "promotion_skips_environment", deployments.promote, ALICE, NAME, "1.0.0", skip)
    assert error.extra == {"skipped": ["staging"]}
    wrong = promotion(**{"from": "dev"})
    assert (
        refused(db, "version_not_deployed", deployments.promote, ALICE, NAME, "1.1.0", wrong).field
        == "version"
    )
    back = promotion(**{"from": "dev", "to": "dev"})
    assert refused(db, "promotion_not_forward", deployments.promote, ALICE, NAME, "1.0.0", back).field == "to"
    last = promotion(**{"from": "production"})
    refused(db, "no_next_environment", deployments.promote, ALICE, NAME, "1.0.0", last)
    missing = promotion(**{"from": "moon"})
    assert (
        refused(db, "environment_not_found", deployments.promote, ALICE, NAME, "1.0.0", missing).field
        == "from"
    )
    assert stable(db, "staging") is None and stable(db, "production") is None


def test_a_forced_promotion_skips_environments_and_says_so(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "dev", request("1.0.0"))
    forced = promotion(**{"from": "dev", "to": "production", "force": True, "notes": "hotfix"})
    done = ok(db, deployments.promote, ALICE, NAME, "1.0.0", forced)
    assert done.forced and stable(db, "production") == "1.0.0" and stable(db, "staging") is None
    event = events(db, "production")[-1]
    assert (event.action, event.forced, event.notes) == ("promote", True, "hotfix")
    assert '"skipped":["staging"]' in (event.detail or "")


def test_approval_needs_a_second_principal(db: Session) -> None:
    environments.update_environment(db, SYSTEM, "production", {"requiresApproval": True})
    db.commit()
    pending = ok(db, deployments.deploy, ALICE, "production", request("1.0.0"), now=T0)
    assert pending.state == "pending_approval"
    assert stable(db, "production") is None
    refused(db, "self_approval", approvals.approve, ALICE, "production", pending.id)
    refused(db, "environment_protected", approvals.approve, PAT, "production", pending.id)
    approved = ok(db, approvals.approve, BOB, "production", pending.id, now=minutes(5))
    assert (approved.state, approved.approved_by) == ("applied", "bob")
    assert stable(db, "production") == "1.0.0"
    assert actions(db, "production") == ["request", "approve", "deploy"]
    refused(db, "not_pending_approval", approvals.approve, BOB, "production", pending.id)
    refused(db, "deployment_not_found", approvals.approve, BOB, "production", 999)
    refused(db, "deployment_not_found", approvals.approve, BOB, "dev", pending.id)


def test_a_pending_deployment_can_be_cancelled(db: Session) -> None:
    environments.update_environment(db, SYSTEM, "staging", {"requiresApproval": True})
    db.commit()
    pending = ok(db, deployments.deploy, ALICE, "staging", request("1.0.0"))
    assert ok(db, approvals.cancel, ALICE, "staging", pending.id).state == "cancelled"
    refused(db, "not_pending_approval", approvals.approve, BOB, "staging", pending.id)
    refused(db, "not_cancellable", approvals.cancel, ALICE, "staging", pending.id)
    assert actions(db, "staging") == ["request", "cancel"]


def test_scheduled_at_defers_a_deployment_to_its_time(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "dev", request("1.0.0"), now=T0)
    later = request("1.1.0", scheduled_at="2030-01-01T13:00:00Z")
    scheduled = ok(db, deployments.deploy, ALICE, "dev", later, now=T0)
    assert scheduled.state == "scheduled"
    assert not clock.due(db, minutes(59))
    assert ok(db, clock.tick, minutes(59)).deployments == 0
    assert stable(db, "dev") == "1.0.0"
    assert clock.due(db, minutes(60))
    assert ok(db, clock.tick, minutes(61)).deployments == 1
    assert ok(db, clock.tick, minutes(62)).deployments == 0
    assert stable(db, "dev") == "1.1.0"
    assert deployments.get_deployment(db, "dev", scheduled.id).state == "applied"
    last = events(db, "dev")[-1]
    assert (last.action, last.actor, last.deployment_id) == ("deploy", "system", scheduled.id)


def test_an_approved_deployment_still_waits_for_its_time(db: Session) -> None:
    environments.update_environment(db, SYSTEM, "staging", {"requiresApproval": True})
    db.commit()
    later = request("1.0.0", scheduled_at="2030-01-01T13:00:00Z")
    pending = ok(db, deployments.deploy, ALICE, "staging", later, now=T0)
    assert ok(db, approvals.approve, BOB, "staging", pending.id, now=minutes(1)).state == "scheduled"
    assert stable(db, "staging") is None
    ok(db, clock.tick, minutes(60))
    assert stable(db, "staging") == "1.0.0"
    assert actions(db, "staging") == ["request", "approve", "deploy"]


def test_a_scheduled_deployment_whose_release_was_deleted_fails_visibly(db: Session) -> None:
    later = request("1.1.0", scheduled_at="2030-01-01T13:00:00Z")
    scheduled = ok(db, deployments.deploy, ALICE, "dev", later, now=T0)
    releases.set_status(db, SYSTEM, NAME, "1.1.0", "deleted")
    db.commit()
    report = ok(db, clock.tick, minutes(60))
    assert (report.deployments, report.failed) == (0, 1)
    failed = deployments.get_deployment(db, "dev", scheduled.id)
    assert (failed.state, failed.failure) == ("failed", "release_deleted")
    assert actions(db, "dev") == ["schedule", "fail"]
    assert stable(db, "dev") is None


def test_deploying_what_already_runs_is_refused(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "dev", request("1.0.0"))
    refused(db, "already_deployed", deployments.deploy, ALICE, "dev", request("1.0.0"))
    canary = request("1.0.0", strategy="canary", weight=10)
    refused(db, "already_deployed", deployments.deploy, ALICE, "dev", canary)


def test_a_first_canary_has_nothing_to_canary_against_and_goes_stable(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "dev", request("1.0.0", strategy="canary", weight=10))
    assert stable(db, "dev") == "1.0.0"
    event = events(db, "dev")[-1]
    assert event.strategy == "immediate" and '"requestedStrategy":"canary"' in (event.detail or "")
    assert routing.resolve(db, NAME, "dev", "client-1").track == "stable"


def test_list_and_get_deployments(db: Session) -> None:
    first = ok(db, deployments.deploy, ALICE, "dev", request("1.0.0"))
    second = ok(db, deployments.deploy, ALICE, "dev", request("1.1.0"))
    assert [d.id for d in deployments.list_deployments(db, "dev")] == [second.id, first.id]
    assert deployments.list_deployments(db, "dev", state="scheduled") == []
    found = deployments.DeploymentInfo.of(deployments.get_deployment(db, "dev", first.id))
    assert (found.version, found.state, found.requested_by) == ("1.0.0", "applied", "alice")
