"""Canary analysis on both backends, from traffic aggregates written as the gateway writes them:
a good canary advances, a bad one is aborted within two intervals with its numbers in history,
no traffic pauses (never rolls back), a manual rollback does not wait, each interval is
judged once."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.db.analysis_tables import AnalysisRun
from mcpreg.db.deploy_tables import DeploymentEvent, DeploymentState
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.principal import SYSTEM
from mcpreg.errors import ValidationFailed
from mcpreg.services import analysis, releases
from mcpreg.services.deploy import clock, deployments, rollouts
from tests.conftest import server_doc
from tests.support.traffic import add_traffic

NAME = "io.github.acme/weather"
T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=datetime.now().astimezone().tzinfo).astimezone()
INTERVAL = 10
SETTLE = 6.0
ANALYSIS = {
    "interval": INTERVAL,
    "failureLimit": 1,
    "inconclusiveLimit": 2,
    "checks": [{"kind": "errorRate", "max": 0.05, "minRequests": 5}],
}


@pytest.fixture
def rolling(engine: sa.Engine) -> datetime:
    """1.0.0 stable in production, 1.1.0 rolling out at 10% then 50% (a minute each) under analysis."""
    start = datetime.now().astimezone() - timedelta(hours=1)
    with unit_of_work(engine, write=True) as session:
        for version in ("1.0.0", "1.1.0"):
            releases.create_release(session, SYSTEM, server_doc(NAME, version))
        deployments.deploy(
            session, SYSTEM, "production", parse_deploy({"server": NAME, "version": "1.0.0"}), now=start
        )
        body = {
            "server": NAME,
            "version": "1.1.0",
            "strategy": "staged",
            "steps": "10:1m,50:1m",
            "analysis": ANALYSIS,
        }
        deployments.deploy(session, SYSTEM, "production", parse_deploy(body), now=start)
    return start


traffic = partial(add_traffic, server=NAME, environment="production")


def state_of(session: Session) -> DeploymentState:
    row = session.exec(select(DeploymentState).where(DeploymentState.server_name == NAME)).first()
    assert row is not None
    return row


def events(session: Session) -> list[DeploymentEvent]:
    return list(session.exec(select(DeploymentEvent).order_by(DeploymentEvent.seq)).all())  # type: ignore[arg-type]


def analyse(engine: sa.Engine, now: datetime) -> tuple[int, list[analysis.Acted]]:
    with unit_of_work(engine, write=True) as session:
        return analysis.analyse(session, now, settle=SETTLE)


def test_a_good_canary_advances_once_its_step_passed(engine: sa.Engine, rolling: datetime) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 70, ok=3, errors=0)
        traffic(session, "1.0.0", rolling, 70, ok=20, errors=0)
    step_end = rolling + timedelta(seconds=60 + SETTLE + 1)
    stored, acted = analyse(engine, step_end)
    assert stored == 6 and acted == []
    with unit_of_work(engine, write=True) as session:
        assert clock.tick(session, step_end).steps == 1
        state = state_of(session)
        assert (state.rollout_index, state.canary_weight) == (1, 50.0)
        assert state.step_started_at == step_end  # the next step's intervals start now
        runs = session.exec(select(AnalysisRun)).all()
        assert {r.verdict for r in runs} == {"pass"}


def test_a_step_waits_while_its_latest_interval_has_not_passed(engine: sa.Engine, rolling: datetime) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 40, ok=3, errors=0)  # then nothing: inconclusive
    due = rolling + timedelta(seconds=60 + SETTLE + 1)
    analyse(engine, due)
    with unit_of_work(engine, write=True) as session:
        assert clock.tick(session, due).steps == 0
        assert state_of(session).rollout_index == 0


def test_a_bad_canary_is_aborted_within_two_intervals_with_the_numbers_in_history(
    engine: sa.Engine, rolling: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 30, ok=2, errors=1)
        traffic(session, "1.0.0", rolling, 30, ok=20, errors=0)
    first = rolling + timedelta(seconds=INTERVAL + SETTLE)
    assert analyse(engine, first) == (1, [])  # one failed interval: within the failureLimit
    stored, acted = analyse(engine, rolling + timedelta(seconds=2 * INTERVAL + SETTLE))
    assert stored == 1 and [a.action for a in acted] == ["abort"]
    with unit_of_work(engine) as session:
        state = state_of(session)
        assert state.rollout_status == "aborted" and state.canary_weight == 0
        assert state.stable_version == "1.0.0"
        aborted = events(session)[-1]
        assert (aborted.action, aborted.actor) == ("abort", "analysis")
        assert aborted.detail is not None
        assert '"canaryErrorRate":0.3333' in aborted.detail and "failureLimit 1" in (aborted.notes or "")


def test_no_traffic_is_inconclusive_and_pauses_for_a_human_never_rolls_back(
    engine: sa.Engine, rolling: datetime
) -> None:
    stored, acted = analyse(engine, rolling + timedelta(seconds=3 * INTERVAL + SETTLE))
    assert stored == 3 and [a.action for a in acted] == ["pause"]
    with unit_of_work(engine) as session:
        state = state_of(session)
        assert state.rollout_status == "paused" and state.canary_version == "1.1.0"
        paused = events(session)[-1]
        assert paused.action == "pause" and "inconclusive" in (paused.notes or "")
        assert {r.verdict for r in session.exec(select(AnalysisRun)).all()} == {"inconclusive"}


def test_a_manual_rollback_during_analysis_takes_effect_at_once(engine: sa.Engine, rolling: datetime) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 10, ok=3, errors=0)
    analyse(engine, rolling + timedelta(seconds=INTERVAL + SETTLE))
    with unit_of_work(engine, write=True) as session:
        rollouts.rollback(session, SYSTEM, NAME, "production", notes="by hand")
        state = state_of(session)
        assert state.canary_version is None and state.stable_version == "1.0.0"
    assert analyse(engine, rolling + timedelta(hours=1)) == (0, [])  # nothing left to analyse


def test_each_interval_is_judged_once_by_concurrent_passes(engine: sa.Engine, rolling: datetime) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 40, ok=3, errors=0)
    now = rolling + timedelta(seconds=4 * INTERVAL + SETTLE)
    ready = threading.Barrier(3)
    errors: list[BaseException] = []

    def replica() -> None:
        ready.wait()
        try:
            analyse(engine, now)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with unit_of_work(engine) as session:
        runs = session.exec(select(AnalysisRun)).all()
    assert sorted(r.interval_index for r in runs) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"checks": []}, "analysis.checks"),
        ({"checks": [{"kind": "latency"}]}, "analysis.checks[0].kind"),
        ({"checks": [{"kind": "errorRate"}]}, "analysis.checks[0].max"),
        ({"checks": [{"kind": "errorRate", "max": 2}]}, "analysis.checks[0].max"),
        ({"checks": [{"kind": "p95", "maxSeconds": 1, "max": 1}]}, "analysis.checks[0].max"),
        ({"interval": "2s", "checks": [{"kind": "minRequests", "count": 5}]}, "analysis.checks[0].interval"),
        ({"checks": [{"kind": "ratioToStable", "failureLimit": -1}]}, "analysis.checks[0].failureLimit"),
        ({"checks": [{"kind": "minRequests", "count": 1}], "every": 5}, "analysis.every"),
    ],
)
def test_a_bad_analysis_is_refused_naming_its_field(body: dict[str, Any], field: str) -> None:
    deploy = {"server": NAME, "version": "1.1.0", "strategy": "canary", "weight": 10, "analysis": body}
    with pytest.raises(ValidationFailed) as refused:
        parse_deploy(deploy)
    assert refused.value.field == field


def test_an_immediate_deploy_takes_no_analysis() -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_deploy({"server": NAME, "version": "1.1.0", "analysis": ANALYSIS})
    assert refused.value.field == "analysis"


def test_an_environment_default_applies_to_its_rollouts(engine: sa.Engine) -> None:
    from mcpreg.services import environments

    with unit_of_work(engine, write=True) as session:
        environments.update_environment(session, SYSTEM, "staging", {"analysis": ANALYSIS})
        for version in ("1.0.0", "1.1.0"):
            releases.create_release(session, SYSTEM, server_doc(NAME, version))
        deployments.deploy(session, SYSTEM, "staging", parse_deploy({"server": NAME, "version": "1.0.0"}))
        deployments.deploy(
            session,
            SYSTEM,
            "staging",
            parse_deploy({"server": NAME, "version": "1.1.0", "strategy": "canary", "weight": 5}),
        )
        state = state_of(session)
        followed = analysis.analysis_of(state)
        assert followed is not None and followed.checks[0].kind == "errorRate"
        staging = environments.EnvironmentInfo.of(environments.get_environment(session, "staging"))
        assert staging.analysis is not None and staging.analysis["checks"]
