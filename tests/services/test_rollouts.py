"""Canary and staged rollouts, timed and manual pauses, abort, rollback, routing and the
scheduler, as services on both backends. Time is passed in, never waited for."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.api.schemas.deployments import Target
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import releases
from mcpreg.services.deploy import clock, deployments, rollouts, routing
from mcpreg.services.deploy.states import TargetInfo, find_state
from mcpreg.services.environments import get_environment
from tests.support.deploys import ALICE, NAME, T0, actions, events, minutes, ok, prepare, refused, request

CLIENTS = [f"client-{i}" for i in range(400)]  # the share itself is property-tested in the domain
STAGED = [{"weight": 5, "pause": "10m"}, {"weight": 25, "pause": "manual"}, {"weight": 50, "pause": "1h"}]


@pytest.fixture
def db(session: Session) -> Session:
    prepare(session)
    ok(session, deployments.deploy, ALICE, "production", request("1.0.0"), now=T0)
    return session


def view(session: Session, env: str = "production") -> dict[str, object]:
    server = releases.get_server(session, NAME)
    environment = get_environment(session, env)
    shown = TargetInfo.of(find_state(session, server, environment), environment, NAME)
    return Target.of(shown).model_dump(mode="json")  # as the API answers it


def canary_clients(session: Session, env: str = "production") -> set[str]:
    return {c for c in CLIENTS if routing.resolve(session, NAME, env, c).track == "canary"}


def staged(session: Session, version: str = "1.1.0", steps: object = STAGED) -> None:
    ok(
        session,
        deployments.deploy,
        ALICE,
        "production",
        request(version, strategy="staged", steps=steps),
        now=T0,
    )


def test_a_canary_takes_a_sticky_share_and_finishing_makes_it_stable(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "production", request("1.1.0", strategy="canary", weight=10), now=T0)
    state = view(db)
    assert (state["stable"], state["canary"], state["weight"], state["status"]) == (
        "1.0.0",
        "1.1.0",
        10,
        "paused_manual",
    )
    chosen = canary_clients(db)
    assert 20 <= len(chosen) <= 60  # 10% of 400, give or take
    assert canary_clients(db) == chosen
    resolved = routing.resolve(db, NAME, "production", next(iter(chosen)))
    assert (resolved.release.version, resolved.track, resolved.weight) == ("1.1.0", "canary", 10)
    assert routing.resolve(db, NAME, "production", None).release.version == "1.0.0"
    ok(db, rollouts.transition, ALICE, NAME, "production", "promote", now=minutes(1))
    state = view(db)
    assert (state["stable"], state["canary"], state["weight"], state["status"]) == (
        "1.1.0",
        None,
        0,
        "completed",
    )
    assert state["lastKnownGood"] == "1.0.0"
    assert {routing.resolve(db, NAME, "production", c).release.version for c in CLIENTS[:50]} == {"1.1.0"}
    complete = events(db)[-1]
    assert (complete.action, complete.version, complete.replaced, complete.stable_version) == (
        "complete",
        "1.1.0",
        "1.0.0",
        "1.1.0",
    )


def test_a_staged_rollout_advances_on_timed_pauses_and_waits_at_manual_ones(db: Session) -> None:
    staged(db)
    assert (view(db)["weight"], view(db)["nextStepAt"]) == (5, "2030-01-01T12:10:00Z")
    early = canary_clients(db)
    assert ok(db, clock.tick, minutes(9)).steps == 0
    assert ok(db, clock.tick, minutes(10)).steps == 1
    assert (view(db)["weight"], view(db)["status"], view(db)["step"]) == (25, "paused_manual", 1)
    assert early <= canary_clients(db), "a client in the canary at 5% stays in it at 25%"
    assert ok(db, clock.tick, minutes(600)).steps == 0, "a manual pause waits for a promote"
    ok(db, rollouts.transition, ALICE, NAME, "production", "promote", now=minutes(601))
    assert (view(db)["weight"], view(db)["status"]) == (50, "progressing")
    ok(db, clock.tick, minutes(661))
    assert (view(db)["stable"], view(db)["status"]) == ("1.1.0", "completed")
    assert actions(db, "production") == ["deploy", "deploy", "step", "step", "complete"]
    assert [e.actor for e in events(db, "production")][2:] == ["system", "alice", "system"]


def test_a_late_tick_takes_every_elapsed_step_once_each(db: Session) -> None:
    staged(db, steps="5:1m,10:1m,20:1m")
    report = ok(db, clock.tick, minutes(30))
    assert report.steps == 3
    assert view(db)["stable"] == "1.1.0"
    assert [e.canary_weight for e in events(db)[-3:]] == [10, 20, 0]
    assert ok(db, clock.tick, minutes(31)).steps == 0


def test_promote_full_goes_straight_to_stable(db: Session) -> None:
    staged(db)
    ok(db, rollouts.transition, ALICE, NAME, "production", "promote", full=True, now=minutes(1))
    assert (view(db)["stable"], view(db)["status"]) == ("1.1.0", "completed")


def test_pause_keeps_the_time_left_and_resume_restarts_it(db: Session) -> None:
    staged(db)
    ok(db, rollouts.transition, ALICE, NAME, "production", "pause", now=minutes(4))
    assert (view(db)["status"], view(db)["pausedRemainingSeconds"]) == ("paused", 360.0)
    refused(
        db, "rollout_already_paused", rollouts.transition, ALICE, NAME, "production", "pause", now=minutes(5)
    )
    assert ok(db, clock.tick, minutes(120)).steps == 0
    ok(db, rollouts.transition, ALICE, NAME, "production", "resume", now=minutes(120))
    assert view(db)["nextStepAt"] == "2030-01-01T14:06:00Z"
    ok(db, clock.tick, minutes(126))
    assert view(db)["status"] == "paused_manual"
    refused(db, "rollout_not_paused", rollouts.transition, ALICE, NAME, "production", "resume")
    assert actions(db)[-3:] == ["pause", "resume", "step"]


def test_abort_sends_everyone_to_stable_and_stops_the_rollout(db: Session) -> None:
    staged(db)
    ok(db, clock.tick, minutes(10))
    ok(db, rollouts.transition, ALICE, NAME, "production", "abort", notes="errors up", now=minutes(11))
    state = view(db)
    assert (state["stable"], state["canary"], state["weight"], state["status"]) == (
        "1.0.0",
        "1.1.0",
        0,
        "aborted",
    )
    assert canary_clients(db) == set()
    refused(db, "rollout_not_active", rollouts.transition, ALICE, NAME, "production", "promote")
    refused(db, "rollout_not_active", rollouts.transition, ALICE, NAME, "production", "abort")
    assert ok(db, clock.tick, minutes(500)).steps == 0
    abort = events(db)[-1]
    assert (abort.action, abort.version, abort.notes, abort.actor) == ("abort", "1.1.0", "errors up", "alice")


def test_a_new_deploy_replaces_a_running_canary_with_a_new_rollout(db: Session) -> None:
    staged(db)
    first = view(db)["rolloutId"]
    ok(
        db,
        deployments.deploy,
        ALICE,
        "production",
        request("1.2.0", strategy="canary", weight=20),
        now=minutes(1),
    )
    state = view(db)
    assert (state["canary"], state["weight"]) == ("1.2.0", 20)
    assert state["rolloutId"] != first
    assert events(db)[-1].replaced == "1.1.0"
    assert ok(db, clock.tick, minutes(20)).steps == 0


def test_rollback_returns_to_the_last_known_good_version(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "production", request("1.1.0"), now=minutes(1))
    ok(db, deployments.deploy, ALICE, "production", request("1.2.0"), now=minutes(2))
    assert view(db)["lastKnownGood"] == "1.1.0"
    ok(db, rollouts.rollback, ALICE, NAME, "production", notes="bad", now=minutes(3))
    assert (view(db)["stable"], view(db)["lastKnownGood"]) == ("1.1.0", "1.0.0")
    back = events(db)[-1]
    assert (back.action, back.version, back.replaced, back.notes) == ("rollback", "1.1.0", "1.2.0", "bad")
    ok(db, rollouts.rollback, ALICE, NAME, "production", now=minutes(4))
    assert (view(db)["stable"], view(db)["lastKnownGood"]) == ("1.0.0", None)
    refused(db, "no_rollback_target", rollouts.rollback, ALICE, NAME, "production")
    ok(db, rollouts.rollback, ALICE, NAME, "production", version="1.2.0", now=minutes(5))
    assert view(db)["stable"] == "1.2.0"


def test_rollback_during_a_rollout_cancels_it_so_no_step_runs_on_top(db: Session) -> None:
    staged(db, steps="5:1m,50:1m")
    ok(db, rollouts.rollback, ALICE, NAME, "production", now=minutes(0.5))
    state = view(db)
    assert (state["stable"], state["canary"], state["weight"], state["status"]) == (
        "1.0.0",
        None,
        0,
        "stable",
    )
    assert (state["rolloutId"], state["strategy"], state["nextStepAt"]) == (None, None, None)
    assert ok(db, clock.tick, minutes(30)).steps == 0
    assert view(db)["stable"] == "1.0.0"
    back = events(db)[-1]
    assert (back.action, back.replaced) == ("rollback", "1.1.0")
    assert '"cancelledRollout"' in (back.detail or "")


def test_rollback_refusals(db: Session) -> None:
    refused(db, "already_deployed", rollouts.rollback, ALICE, NAME, "production", version="1.0.0")
    releases.set_status(db, SYSTEM, NAME, "1.1.0", "deleted")
    db.commit()
    refused(db, "release_deleted", rollouts.rollback, ALICE, NAME, "production", version="1.1.0")
    refused(db, "no_deployment", rollouts.rollback, ALICE, NAME, "dev")
    refused(db, "no_rollout", rollouts.transition, ALICE, NAME, "production", "promote")


def test_resolving_where_nothing_is_deployed_is_no_deployment(db: Session) -> None:
    refused(db, "no_deployment", routing.resolve, NAME, "dev", "c1")
    refused(db, "environment_not_found", routing.resolve, NAME, "moon", "c1")


def test_a_due_step_is_taken_once_when_two_replicas_tick_at_once(db: Session, engine: sa.Engine) -> None:
    staged(db, steps="5:1m,50:1m")
    first_ticked, second_done = threading.Event(), threading.Event()
    reports: dict[str, int] = {}

    def first() -> None:
        with unit_of_work(engine, write=True) as s:
            reports["first"] = clock.tick(s, minutes(1)).steps
            first_ticked.set()
            second_done.wait(0.5)  # PostgreSQL: the second skips the locked row; SQLite: it queues

    def second() -> None:
        first_ticked.wait(10)
        with unit_of_work(engine, write=True) as s:
            reports["second"] = clock.tick(s, minutes(1)).steps
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(reports.values()) == [0, 1]
    db.expire_all()
    assert actions(db).count("step") == 1
    assert view(db)["weight"] == 50
