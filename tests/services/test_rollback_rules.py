"""A rollback goes back to a version that was stable in that environment before; any other
version is a deploy, with approval, protection and the pre-release rule (both backends)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from mcpreg.domain.principal import SYSTEM
from mcpreg.services import environments, releases
from mcpreg.services.deploy import deployments, rollouts
from mcpreg.services.deploy.states import find_state
from mcpreg.services.environments import get_environment
from tests.support.deploys import ALICE, NAME, T0, actions, minutes, ok, prepare, refused, request

ADMIN = SYSTEM


@pytest.fixture
def db(session: Session) -> Session:
    prepare(session)
    ok(session, deployments.deploy, ALICE, "production", request("1.0.0"), now=T0)
    return session


def stable(session: Session, env: str = "production") -> str | None:
    state = find_state(session, releases.get_server(session, NAME), get_environment(session, env))
    return state.stable_version if state else None


def test_rolling_back_to_a_version_that_never_ran_there_is_refused_and_changes_nothing(db: Session) -> None:
    before = actions(db)
    error = refused(
        db, "not_a_rollback_target", rollouts.rollback, ALICE, NAME, "production", version="1.2.0"
    )
    assert (error.status, error.field) == (409, "version")
    assert stable(db) == "1.0.0"
    assert actions(db) == before


def test_a_version_that_was_only_a_canary_is_not_a_rollback_target(db: Session) -> None:
    ok(
        db,
        deployments.deploy,
        ALICE,
        "production",
        request("1.1.0", strategy="canary", weight=10),
        now=minutes(1),
    )
    ok(db, rollouts.transition, ALICE, NAME, "production", "abort", now=minutes(2))
    refused(db, "not_a_rollback_target", rollouts.rollback, ALICE, NAME, "production", version="1.1.0")
    assert stable(db) == "1.0.0"


def test_a_version_stable_in_another_environment_only_is_not_a_rollback_target_here(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "staging", request("1.1.0"), now=minutes(1))
    ok(db, deployments.deploy, ALICE, "production", request("1.2.0"), now=minutes(2))
    refused(db, "not_a_rollback_target", rollouts.rollback, ALICE, NAME, "production", version="1.1.0")
    assert stable(db) == "1.2.0"


def test_rollback_cannot_bypass_approval_for_a_new_version(db: Session) -> None:
    environments.update_environment(db, ADMIN, "production", {"requiresApproval": True})
    db.commit()
    refused(db, "not_a_rollback_target", rollouts.rollback, ALICE, NAME, "production", version="1.1.0")
    pending = ok(db, deployments.deploy, ALICE, "production", request("1.1.0"), now=minutes(1))
    assert pending.state == "pending_approval"
    assert stable(db) == "1.0.0"


def test_rollback_cannot_bypass_the_prerelease_rule(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "staging", request("1.0.0"), now=minutes(1))
    refused(db, "not_a_rollback_target", rollouts.rollback, ALICE, NAME, "staging", version="2.0.0-rc.1")
    refused(db, "prerelease_not_allowed", rollouts.rollback, ALICE, NAME, "production", version="2.0.0-rc.1")


def test_a_version_that_was_stable_there_before_is_a_rollback_target_even_when_deprecated(
    db: Session,
) -> None:
    ok(db, deployments.deploy, ALICE, "production", request("1.1.0"), now=minutes(1))
    ok(db, deployments.deploy, ALICE, "production", request("1.2.0"), now=minutes(2))
    releases.set_status(db, SYSTEM, NAME, "1.0.0", "deprecated")
    db.commit()
    ok(db, rollouts.rollback, ALICE, NAME, "production", version="1.0.0", now=minutes(3))
    assert stable(db) == "1.0.0"
    ok(db, rollouts.rollback, ALICE, NAME, "production", version="1.2.0", now=minutes(4))
    assert stable(db) == "1.2.0"
    assert actions(db)[-2:] == ["rollback", "rollback"]


def test_a_version_made_stable_by_a_completed_rollout_is_a_rollback_target(db: Session) -> None:
    ok(
        db,
        deployments.deploy,
        ALICE,
        "production",
        request("1.1.0", strategy="canary", weight=10),
        now=minutes(1),
    )
    ok(db, rollouts.transition, ALICE, NAME, "production", "promote", now=minutes(2))
    ok(db, deployments.deploy, ALICE, "production", request("1.2.0"), now=minutes(3))
    ok(db, rollouts.rollback, ALICE, NAME, "production", version="1.1.0", now=minutes(4))
    assert stable(db) == "1.1.0"


def test_rollback_during_a_rollout_to_the_current_stable_drops_the_canary(db: Session) -> None:
    ok(
        db,
        deployments.deploy,
        ALICE,
        "production",
        request("1.1.0", strategy="canary", weight=10),
        now=minutes(1),
    )
    ok(db, rollouts.rollback, ALICE, NAME, "production", version="1.0.0", now=minutes(2))
    state = find_state(db, releases.get_server(db, NAME), get_environment(db, "production"))
    assert state is not None and (state.stable_version, state.canary_version) == ("1.0.0", None)
