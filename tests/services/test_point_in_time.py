"""Point in time: what ran in every environment at a chosen moment, rebuilt from the
deployment history, and each target's last change; as services on both backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import Session

from mcpreg.domain import point_in_time as rule
from mcpreg.services.deploy import deployments, point_in_time, rollouts
from mcpreg.services.environments import get_environment
from tests.support.deploys import ALICE, BOB, NAME, T0, events, minutes, ok, prepare, request

THEIRS = "io.github.other/tool"


@pytest.fixture
def db(session: Session) -> Session:
    """weather: 1.0.0 at T0, canary 1.1.0 at 10% at +10m, promoted at +20m, rolled back at +30m.
    tool (another namespace): 1.0.0 in staging at +5m."""
    prepare(session)
    prepare(session, ("1.0.0",), name=THEIRS)
    ok(session, deployments.deploy, ALICE, "production", request("1.0.0"), now=T0)
    ok(session, deployments.deploy, BOB, "staging", request("1.0.0", server=THEIRS), now=minutes(5))
    canary = request("1.1.0", strategy="canary", weight=10)
    ok(session, deployments.deploy, ALICE, "production", canary, now=minutes(10))
    ok(session, rollouts.transition, BOB, NAME, "production", "promote", now=minutes(20))
    ok(session, rollouts.rollback, ALICE, NAME, "production", notes="5xx", now=minutes(30))
    return session


def running(
    session: Session,
    at: float,
    visible: Callable[[str], bool] | None = None,
    environment_visible: Callable[[str], bool] | None = None,
) -> dict[str, list[tuple[str, str, str | None, float]]]:
    found = point_in_time.running_at(
        session, minutes(at), visible=visible, environment_visible=environment_visible
    )
    return {e.name: [(r.server, r.stable, r.canary, r.weight) for r in e.running] for e in found}


def test_before_the_first_deploy_every_environment_is_listed_and_nothing_ran(db: Session) -> None:
    assert running(db, -1) == {"dev": [], "staging": [], "production": []}


def test_each_moment_shows_the_stable_the_canary_and_its_weight_that_ran_then(db: Session) -> None:
    assert running(db, 0)["production"] == [(NAME, "1.0.0", None, 0.0)]
    assert running(db, 15)["production"] == [(NAME, "1.0.0", "1.1.0", 10.0)]
    assert running(db, 25)["production"] == [(NAME, "1.1.0", None, 0.0)]
    assert running(db, 35)["production"] == [(NAME, "1.0.0", None, 0.0)]
    assert running(db, 35)["staging"] == [(THEIRS, "1.0.0", None, 0.0)]


def test_a_change_counts_from_its_own_instant(db: Session) -> None:
    assert running(db, 10)["production"] == [(NAME, "1.0.0", "1.1.0", 10.0)]
    just_before = point_in_time.running_at(db, minutes(10) - timedelta(microseconds=1))
    assert [r.canary for e in just_before for r in e.running if e.name == "production"] == [None]


def test_each_target_says_who_made_the_change_that_left_it_so_and_when(db: Session) -> None:
    [canary] = next(e for e in point_in_time.running_at(db, minutes(15)) if e.name == "production").running
    assert (canary.by, canary.action, canary.since) == ("alice", "deploy", minutes(10))
    assert "1.1.0 gets 10% of clients" in canary.summary
    [back] = next(e for e in point_in_time.running_at(db, minutes(31)) if e.name == "production").running
    assert (back.by, back.action, back.summary) == (
        "alice",
        "rollback",
        "rolled back to 1.0.0, replacing 1.1.0",
    )


def test_an_aborted_canary_takes_no_traffic_so_only_the_stable_version_ran(db: Session) -> None:
    ok(
        db,
        deployments.deploy,
        ALICE,
        "production",
        request("1.2.0", strategy="canary", weight=5),
        now=minutes(40),
    )
    ok(db, rollouts.transition, ALICE, NAME, "production", "abort", now=minutes(50))
    assert running(db, 45)["production"] == [(NAME, "1.0.0", "1.2.0", 5.0)]
    assert running(db, 55)["production"] == [(NAME, "1.0.0", None, 0.0)]


def test_a_caller_sees_only_the_servers_and_environments_it_may_read(db: Session) -> None:
    mine = running(db, 35, visible=lambda name: name.startswith("io.github.acme/"))
    assert mine == {"dev": [], "staging": [], "production": [(NAME, "1.0.0", None, 0.0)]}
    assert running(db, 35, environment_visible=lambda env: env == "staging") == {
        "staging": [(THEIRS, "1.0.0", None, 0.0)]
    }


def test_the_query_agrees_with_the_pure_rule_at_every_moment_of_the_history(db: Session) -> None:
    every = [point_in_time.change_of(e) for e in events(db)]
    moments = sorted({c.at for c in every} | {c.at + timedelta(seconds=1) for c in every})
    for moment in [T0 - timedelta(seconds=1), *moments]:
        found = [r for e in point_in_time.running_at(db, moment) for r in e.running]
        assert sorted(found, key=lambda r: (r.environment, r.server)) == rule.running_at(every, moment), (
            moment
        )


def test_last_changes_name_the_latest_event_of_every_target_in_an_environment(db: Session) -> None:
    last = point_in_time.last_changes(db, get_environment(db, "production"))
    assert list(last) == [NAME]
    assert (last[NAME].actor, last[NAME].action, last[NAME].at, last[NAME].stable) == (
        "alice",
        "rollback",
        minutes(30),
        "1.0.0",
    )
    assert list(point_in_time.last_changes(db, get_environment(db, "dev"))) == []
