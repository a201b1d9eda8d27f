"""A test-set gate end to end: the promotion gates' runner calls the real hook, which runs the set
on the canary's real upstream; one failing case holds the step and is named, and once the
canary answers right the step is taken. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa
from sqlmodel import select

from mcpreg.api.config import load_app_keyring
from mcpreg.crypto import KeyRing
from mcpreg.db.deploy_tables import DeploymentState
from mcpreg.db.engine import unit_of_work
from mcpreg.db.gate_tables import GateRun
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.gates import parse_gate
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import releases
from mcpreg.services.deploy import deployments
from mcpreg.services.gates import runner, store
from mcpreg.services.testsets import runs, sets
from mcpreg.settings import Settings
from tests.support.gateway_clients import NAME
from tests.support.upstreams import Upstream, remote_doc, upstreams

ENV = "production"
SMOKE = {
    "cases": [
        {
            "name": "sunny in Paris",
            "tool": "forecast",
            "arguments": {"city": "Paris"},
            "expect": {"subset": {"sky": "sunny"}},
        },
        {"name": "says it fails", "tool": "fail", "expect": {"isError": True}},
    ]
}


@pytest.fixture(scope="module")
def echo() -> Iterator[dict[str, Upstream]]:
    with upstreams() as running:
        yield running


@pytest.fixture
def keyring(settings: Settings) -> KeyRing:
    return load_app_keyring(settings)


def test_a_failing_case_holds_the_step_names_the_case_and_a_fixed_canary_passes(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, echo: dict[str, Upstream]
) -> None:
    echo["1.1.0"].wrong = True
    start = datetime.now().astimezone() - timedelta(hours=1)
    with unit_of_work(engine, write=True) as session:
        for version in ("1.0.0", "1.1.0"):
            releases.create_release(
                session, SYSTEM, remote_doc(version, echo[version].url), private_remotes=True
            )
        deployments.deploy(
            session, SYSTEM, ENV, parse_deploy({"server": NAME, "version": "1.0.0"}), now=start
        )
        sets.put_testset(session, SYSTEM, NAME, "smoke", SMOKE)
        spec = parse_gate({"kind": "testset", "testset": "smoke", "points": ["step"]}, name="smoke")
        store.put_gate(session, keyring, SYSTEM, ENV, spec)
        staged = parse_deploy(
            {"server": NAME, "version": "1.1.0", "strategy": "staged", "steps": "10:1m,50:1m"}
        )
        deployments.deploy(session, SYSTEM, ENV, staged, now=start)
    try:
        now = datetime.now().astimezone()
        held = runner.run_once(engine, keyring, settings, now=now)
        assert (held.ran, held.held, held.steps) == (1, 1, 0)
        with unit_of_work(engine) as session:
            gate_run = session.exec(select(GateRun)).one()
            state = session.exec(select(DeploymentState)).one()
            stored = runs.get_run(session, SYSTEM, NAME, "smoke", gate_run.testset_run_id)
        assert (state.rollout_index, state.canary_weight) == (0, 10.0)
        assert (gate_run.result, orjson.loads(gate_run.failing or "[]")) == ("fail", ["sunny in Paris"])
        assert gate_run.failure is not None and "case 'sunny in Paris' failed" in gate_run.failure
        assert (stored.version, stored.track, stored.trigger, stored.failing) == (
            "1.1.0",
            "canary",
            "gate",
            ("sunny in Paris",),
        )

        echo["1.1.0"].wrong = False  # the canary fixed in place: the retry passes and the step is taken
        passed = runner.run_once(engine, keyring, settings, now=now + timedelta(minutes=5))
        assert (passed.ran, passed.passed, passed.steps) == (1, 1, 1)
        with unit_of_work(engine) as session:
            assert session.exec(select(DeploymentState)).one().canary_weight == 50.0
            assert [r.result for r in runs.list_runs(session, SYSTEM, NAME, "smoke")] == ["pass", "fail"]
    finally:
        echo["1.1.0"].wrong = False
