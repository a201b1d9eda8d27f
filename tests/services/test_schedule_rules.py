"""A deployment scheduled in the past is refused naming the field; a few seconds of clock
skew are tolerated and deploy at once (both backends)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from mcpreg.domain.deploy_requests import parse_promote
from mcpreg.services.deploy import deployments
from tests.support.deploys import ALICE, T0, actions, ok, prepare, refused, request


@pytest.fixture
def db(session: Session) -> Session:
    return prepare(session)


@pytest.mark.parametrize("key", ["scheduled_at", "scheduledAt"])
def test_a_deploy_scheduled_in_the_past_is_refused_naming_the_field(db: Session, key: str) -> None:
    past = request("1.0.0", **{key: "2030-01-01T11:59:00Z"})
    error = refused(db, "scheduled_in_past", deployments.deploy, ALICE, "dev", past, now=T0)
    assert (error.status, error.field) == (422, key)
    assert actions(db) == []


def test_a_promotion_scheduled_in_the_past_is_refused(db: Session) -> None:
    ok(db, deployments.deploy, ALICE, "dev", request("1.0.0"), now=T0)
    body = parse_promote({"from": "dev", "scheduled_at": "2029-12-31T00:00:00Z"})
    error = refused(
        db, "scheduled_in_past", deployments.promote, ALICE, "io.github.acme/weather", "1.0.0", body, now=T0
    )
    assert error.field == "scheduled_at"


def test_a_time_a_few_seconds_ago_is_clock_skew_and_deploys_at_once(db: Session) -> None:
    skewed = request("1.0.0", scheduled_at="2030-01-01T11:59:56Z")
    deployment = ok(db, deployments.deploy, ALICE, "dev", skewed, now=T0)
    assert deployment.state == "applied"
    assert actions(db) == ["deploy"]
