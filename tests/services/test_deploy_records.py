"""What the history, the journal and ``where`` say about a change: who made the stable
version stable, a canary cancelled by a deploy, an abort and a schedule (both backends)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlmodel import Session, select

from mcpreg.api.schemas.deployments import Target
from mcpreg.db.tables import JournalEntry
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import environments, releases
from mcpreg.services.deploy import approvals, clock, deployments, rollouts
from mcpreg.services.deploy.events import EventInfo
from mcpreg.services.deploy.states import TargetInfo, find_state
from mcpreg.services.environments import get_environment
from tests.support.deploys import ALICE, BOB, NAME, T0, events, minutes, ok, prepare, request

CAROL = ALICE.__class__(name="carol", scopes=frozenset({"deploy"}), token_id=9)


@pytest.fixture
def db(session: Session) -> Session:
    prepare(session)
    ok(session, deployments.deploy, ALICE, "production", request("1.0.0"), now=T0)
    return session


def where(session: Session, env: str = "production") -> dict[str, Any]:
    environment = get_environment(session, env)
    shown = TargetInfo.of(
        find_state(session, releases.get_server(session, NAME), environment), environment, NAME
    )
    return Target.of(shown).model_dump(mode="json")  # as the API answers it


def journal(session: Session, action: str) -> dict[str, Any]:
    entry = session.exec(
        select(JournalEntry).where(JournalEntry.action == action).order_by(JournalEntry.id.desc())  # type: ignore[union-attr]
    ).first()
    assert entry is not None, action
    return {
        "version": entry.version,
        "before": orjson.loads(entry.before or "null"),
        "after": orjson.loads(entry.after or "null"),
    }


def test_a_canary_promoted_to_stable_is_shown_as_made_stable_by_the_promoter(db: Session) -> None:
    ok(
        db,
        deployments.deploy,
        BOB,
        "production",
        request("1.1.0", strategy="canary", weight=10),
        now=minutes(1),
    )
    assert (where(db)["stable"], where(db)["deployedBy"]) == ("1.0.0", "alice")
    ok(db, rollouts.transition, CAROL, NAME, "production", "promote", now=minutes(5))
    assert (where(db)["stable"], where(db)["deployedBy"], where(db)["deployedAt"]) == (
        "1.1.0",
        "carol",
        "2030-01-01T12:05:00Z",
    )


def test_a_rollout_the_scheduler_completes_is_shown_as_made_stable_by_who_started_it(db: Session) -> None:
    staged = request("1.1.0", strategy="staged", steps="50:1m")
    ok(db, deployments.deploy, BOB, "production", staged, now=minutes(1))
    ok(db, clock.tick, minutes(3))
    assert (where(db)["stable"], where(db)["deployedBy"], where(db)["deployedAt"]) == (
        "1.1.0",
        "bob",
        "2030-01-01T12:02:00Z",
    )


def test_a_scheduled_or_approved_deploy_is_shown_as_made_stable_by_its_requester(db: Session) -> None:
    later = request("1.1.0", scheduled_at="2030-01-01T13:00:00Z")
    ok(db, deployments.deploy, BOB, "production", later, now=T0)
    ok(db, clock.tick, minutes(60))
    assert (where(db)["stable"], where(db)["deployedBy"]) == ("1.1.0", "bob")
    environments.update_environment(db, SYSTEM, "production", {"requiresApproval": True})
    db.commit()
    pending = ok(db, deployments.deploy, CAROL, "production", request("1.2.0"), now=minutes(61))
    ok(db, approvals.approve, ALICE, "production", pending.id, now=minutes(62))
    assert (where(db)["stable"], where(db)["deployedBy"]) == ("1.2.0", "carol")


def test_an_immediate_deploy_over_a_running_canary_records_the_cancelled_canary(db: Session) -> None:
    ok(
        db,
        deployments.deploy,
        ALICE,
        "production",
        request("1.1.0", strategy="canary", weight=10),
        now=minutes(1),
    )
    rollout_id = where(db)["rolloutId"]
    ok(db, deployments.deploy, ALICE, "production", request("1.2.0"), now=minutes(2))
    event = EventInfo.of(events(db)[-1])
    assert (event.action, event.version, event.replaced, event.canary) == (
        "deploy",
        "1.2.0",
        "1.0.0",
        None,
    )
    assert event.detail == {"cancelledRollout": rollout_id, "canary": "1.1.0"}
    assert "1.1.0" in event.summary
    entry = journal(db, "deploy.deploy")
    assert entry["before"]["canary"] == "1.1.0" and entry["after"]["detail"]["canary"] == "1.1.0"


def test_the_journal_of_an_abort_says_the_rollout_stopped_and_what_ran_before(db: Session) -> None:
    ok(
        db,
        deployments.deploy,
        ALICE,
        "production",
        request("1.1.0", strategy="staged", steps="5:10m"),
        now=minutes(1),
    )
    ok(db, rollouts.transition, BOB, NAME, "production", "abort", notes="errors up", now=minutes(2))
    entry = journal(db, "deploy.abort")
    assert entry["version"] == "1.1.0"
    assert entry["before"] == {"stable": "1.0.0", "canary": "1.1.0", "weight": 5, "status": "progressing"}
    after = entry["after"]
    assert (after["action"], after["status"], after["stable"], after["weight"]) == (
        "abort",
        "aborted",
        "1.0.0",
        0,
    )
    assert "1.1.0" in after["summary"] and "1.0.0" in after["summary"]


def test_the_journal_of_a_schedule_says_when_and_that_nothing_changed_yet(db: Session) -> None:
    later = request("1.1.0", scheduled_at="2030-01-01T13:00:00Z")
    scheduled = ok(db, deployments.deploy, BOB, "production", later, now=minutes(1))
    entry = journal(db, "deploy.schedule")
    assert entry["version"] == "1.1.0"
    assert entry["before"] == {"stable": "1.0.0", "canary": None, "weight": 0, "status": "stable"}
    after = entry["after"]
    assert (after["deploymentId"], after["deploymentState"], after["stable"], after["status"]) == (
        scheduled.id,
        "scheduled",
        "1.0.0",
        "stable",
    )
    assert after["detail"] == {"scheduledAt": "2030-01-01T13:00:00Z"}
    assert "2030-01-01T13:00:00Z" in after["summary"]
