"""Promotion gates on both backends, with a real webhook receiver on a loopback port: a gate
holds a step until the receiver answers 2xx (signed, verifiably), retries with backoff, holds
on a timeout, holds a deployment at ``deploy``; abort and rollback never wait; a test set's
failing case is named; each attempt runs once."""

from __future__ import annotations

import sys
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlmodel import select

from mcpreg.api.config import load_app_keyring
from mcpreg.crypto import KeyRing, generate_entry
from mcpreg.db.deploy_tables import Deployment, DeploymentEvent, DeploymentState, Environment
from mcpreg.db.engine import unit_of_work
from mcpreg.db.gate_tables import GateRun, StoredGate
from mcpreg.domain.deploy_requests import parse_deploy, parse_promote
from mcpreg.domain.gates import GateOutcome, parse_gate
from mcpreg.domain.principal import SYSTEM
from mcpreg.domain.signing import verify
from mcpreg.errors import RegistryError
from mcpreg.services import analysis, releases
from mcpreg.services.deploy import approvals, clock, deployments, rollouts
from mcpreg.services.deploy.events import summary
from mcpreg.services.gates import report as gate_report
from mcpreg.services.gates import runner, store
from mcpreg.services.rotation import rotate
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS, server_doc, settings_for
from tests.support.receivers import Receiver, receiving
from tests.support.traffic import add_traffic

NAME = "io.github.acme/weather"
ENV = "production"
SECRET = "gate-secret-0123456789"


@pytest.fixture
def keyring(settings: Settings) -> KeyRing:
    return load_app_keyring(settings)


@pytest.fixture
def start(engine: sa.Engine) -> datetime:
    """1.0.0 and 1.1.0 published; 1.0.0 stable in production, an hour ago."""
    at = datetime.now().astimezone() - timedelta(hours=1)
    with unit_of_work(engine, write=True) as session:
        for version in ("1.0.0", "1.1.0"):
            releases.create_release(session, SYSTEM, server_doc(NAME, version))
        deployments.deploy(session, SYSTEM, ENV, parse_deploy({"server": NAME, "version": "1.0.0"}), now=at)
    return at


def add_gate(engine: sa.Engine, keyring: KeyRing, name: str, body: dict[str, Any]) -> None:
    spec = parse_gate(body, name=name, private_remotes=True)
    with unit_of_work(engine, write=True) as session:
        store.put_gate(session, keyring, SYSTEM, ENV, spec)


def webhook(url: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "webhook", "url": url, "secret": SECRET, **extra}


def deploy(engine: sa.Engine, at: datetime, **body: Any) -> Deployment:
    with unit_of_work(engine, write=True) as session:
        request = parse_deploy({"server": NAME, "version": "1.1.0", **body}, private_remotes=True)
        return deployments.deploy(session, SYSTEM, ENV, request, now=at)


def state(engine: sa.Engine) -> DeploymentState:
    with unit_of_work(engine) as session:
        query = select(DeploymentState).join(Environment, Environment.id == DeploymentState.environment_id)
        return session.exec(query.where(DeploymentState.server_name == NAME, Environment.name == ENV)).one()


def runs(engine: sa.Engine) -> list[GateRun]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(GateRun).order_by(GateRun.id)).all())  # type: ignore[arg-type]


def gate_events(engine: sa.Engine) -> list[dict[str, Any]]:
    with unit_of_work(engine) as session:
        found = session.exec(select(DeploymentEvent).where(DeploymentEvent.action == "gate")).all()
        return [orjson.loads(e.detail or "{}") for e in found]


def gate_summaries(engine: sa.Engine) -> list[str]:
    with unit_of_work(engine) as session:
        found = session.exec(select(DeploymentEvent).where(DeploymentEvent.action == "gate")).all()
        return [summary(e, orjson.loads(e.detail or "{}")) for e in found]


@pytest.fixture
def staged(engine: sa.Engine, keyring: KeyRing, start: datetime) -> Iterator[tuple[Receiver, datetime]]:
    """A step gate answering 500 then 200, and 1.1.0 staged at 10% then 50% whose step is due."""
    with receiving(500, 200) as receiver:
        add_gate(engine, keyring, "ci", webhook(receiver.url, points=["step", "promote"]))
        deploy(engine, start, strategy="staged", steps="10:1m,50:1m")
        yield receiver, datetime.now().astimezone()


def test_a_webhook_gate_holds_a_step_until_the_receiver_answers_2xx_and_its_signature_verifies(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, staged: tuple[Receiver, datetime]
) -> None:
    receiver, now = staged
    report = runner.run_once(engine, keyring, settings, now=now)
    assert (report.ran, report.held, report.steps) == (1, 1, 0)
    held = state(engine)
    assert (held.rollout_index, held.canary_weight) == (0, 10.0)
    first = runs(engine)[0]
    assert (first.result, first.http_status, first.attempt) == ("fail", 500, 1)
    assert (first.point, first.step) == ("step", 1)
    assert first.retry_at == now + timedelta(seconds=1)
    assert gate_events(engine)[-1]["gate"] == "ci"
    with unit_of_work(engine) as session:  # held: the scheduler neither locks nor writes it
        assert not clock.due(session, now)

    # Not due again before its backoff ends; then retried, passed, and the step is taken.
    assert runner.run_once(engine, keyring, settings, now=now + timedelta(seconds=0.5)).ran == 0
    report = runner.run_once(engine, keyring, settings, now=now + timedelta(seconds=1))
    assert (report.ran, report.passed, report.steps) == (1, 1, 1)
    moved = state(engine)
    assert (moved.rollout_index, moved.canary_weight) == (1, 50.0)
    tried = [(r.attempt, r.result, r.http_status) for r in runs(engine)]
    assert tried == [(1, "fail", 500), (2, "pass", 200)]
    assert gate_events(engine)[-1] == {"point": "step", "step": 1, "passed": True}
    held_said, passed_said = gate_summaries(engine)
    assert held_said.startswith("1.1.0 is held by its step gates of step 1 (ci fail: ")
    assert passed_said == "the step gates of step 1 of 1.1.0 passed"

    sent = receiver.received[-1]
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["X-Mcpreg-Event"] == "gate"
    assert sent.headers["X-Mcpreg-Delivery"] == runs(engine)[-1].delivery_id
    assert verify(SECRET, sent.body, sent.headers["X-Mcpreg-Signature"], now=time.time())
    assert not verify("another-secret", sent.body, sent.headers["X-Mcpreg-Signature"], now=time.time())
    payload = orjson.loads(sent.body)
    assert {k: payload[k] for k in ("server", "environment", "version", "stable", "canary", "weight")} == {
        "server": NAME,
        "environment": ENV,
        "version": "1.1.0",
        "stable": "1.0.0",
        "canary": "1.1.0",
        "weight": 50.0,
    }
    assert (payload["step"], payload["point"], payload["attempt"]) == (1, "step", 2)
    assert payload["rolloutId"] == moved.rollout_id and payload["timestamp"]


def test_a_timeout_holds_the_step_and_is_retried(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    with receiving(200) as receiver:
        add_gate(engine, keyring, "slow", webhook(receiver.url, points=["step"], timeoutSeconds=0.3))
        deploy(engine, start, strategy="staged", steps="10:1m,50:1m")
        receiver.hold()
        now = datetime.now().astimezone()
        report = runner.run_once(engine, keyring, settings, now=now)
        receiver.release()
    assert (report.ran, report.held, report.steps) == (1, 1, 0)
    run = runs(engine)[0]
    assert run.result == "fail" and run.http_status is None
    assert run.failure is not None and "timed out" in run.failure
    assert state(engine).rollout_index == 0


def test_the_backoff_doubles_up_to_the_gates_cap(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    with receiving(503) as receiver:
        retry = {"initialSeconds": 2, "maxSeconds": 5}
        add_gate(engine, keyring, "ci", webhook(receiver.url, points=["step"], retry=retry))
        deploy(engine, start, strategy="staged", steps="10:1m,50:1m")
        now = datetime.now().astimezone()
        for _ in range(4):
            last = runs(engine)[-1].retry_at if runs(engine) else now
            assert last is not None
            runner.run_once(engine, keyring, settings, now=last)
    waits = [(r.retry_at - r.finished_at).total_seconds() for r in runs(engine) if r.retry_at]
    assert waits == [2.0, 4.0, 5.0, 5.0]
    assert len(receiver.received) == 4


def test_a_gate_on_deploy_holds_the_deployment_until_it_passes(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    with receiving(500, 204) as receiver:
        add_gate(engine, keyring, "change-board", webhook(receiver.url, points=["deploy"]))
        held = deploy(engine, start)
        assert held.state == "held"
        assert state(engine).stable_version == "1.0.0"
        now = datetime.now().astimezone()
        assert runner.run_once(engine, keyring, settings, now=now).applied == 0
        assert state(engine).stable_version == "1.0.0"
        report = runner.run_once(engine, keyring, settings, now=now + timedelta(seconds=1))
    assert (report.passed, report.applied) == (1, 1)
    assert state(engine).stable_version == "1.1.0"
    with unit_of_work(engine) as session:
        assert session.get(Deployment, held.id).state == "applied"  # type: ignore[union-attr]
    assert orjson.loads(receiver.received[0].body)["point"] == "deploy"


def test_a_held_deployment_can_be_cancelled(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    with receiving(500) as receiver:
        add_gate(engine, keyring, "change-board", webhook(receiver.url, points=["deploy"]))
        held = deploy(engine, start)
        with unit_of_work(engine, write=True) as session:
            assert held.id is not None
            assert approvals.cancel(session, SYSTEM, ENV, held.id).state == "cancelled"
        runner.run_once(engine, keyring, settings)
    assert receiver.received == [] and state(engine).stable_version == "1.0.0"


@pytest.mark.parametrize("action", ["abort", "rollback"])
def test_abort_and_rollback_during_a_held_step_take_effect_at_once(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime, action: str
) -> None:
    with receiving(500) as receiver:
        add_gate(engine, keyring, "ci", webhook(receiver.url, points=["step"]))
        deploy(engine, start, strategy="staged", steps="10:1m,50:1m")
        runner.run_once(engine, keyring, settings)
        assert runs(engine)[0].result == "fail"
        with unit_of_work(engine, write=True) as session:
            if action == "abort":
                rollouts.transition(session, SYSTEM, NAME, ENV, "abort")
            else:
                rollouts.rollback(session, SYSTEM, NAME, ENV)
        after = state(engine)
        assert after.canary_weight == 0.0 and after.stable_version == "1.0.0"
        later = datetime.now().astimezone() + timedelta(minutes=5)
        assert runner.run_once(engine, keyring, settings, now=later).ran == 0


def test_a_manual_promote_waits_for_the_promote_gates(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    with receiving(500, 200) as receiver:
        add_gate(engine, keyring, "ci", webhook(receiver.url, points=["promote"]))
        deploy(engine, start, strategy="canary", weight=10)
        with unit_of_work(engine, write=True) as session, pytest.raises(RegistryError) as refused:
            rollouts.transition(session, SYSTEM, NAME, ENV, "promote")
        assert refused.value.code == "gates_pending"
        assert refused.value.extra["waitingOn"] == ["ci"]
        now = datetime.now().astimezone()
        runner.run_once(engine, keyring, settings, now=now)
        runner.run_once(engine, keyring, settings, now=now + timedelta(seconds=1))
        assert [r.result for r in runs(engine)] == ["fail", "pass"]
        with unit_of_work(engine, write=True) as session:
            rollouts.transition(session, SYSTEM, NAME, ENV, "promote")
    assert state(engine).stable_version == "1.1.0"
    assert orjson.loads(receiver.received[0].body)["point"] == "promote"


def test_a_rollouts_own_gates_are_added_to_the_environments(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    with receiving(200) as receiver:
        gates = [{"name": "smoke", **webhook(receiver.url, points=["step", "promote"])}]
        request = parse_deploy(
            {"server": NAME, "version": "1.1.0", "strategy": "staged", "steps": "10:1m", "gates": gates},
            private_remotes=True,
        )
        add_gate(engine, keyring, "board", {"kind": "testset", "testset": "smoke", "points": ["deploy"]})
        with unit_of_work(engine, write=True) as session:
            sealed = replace(request, gates=store.seal_specs(keyring, request.gates))
            deployments.deploy(session, SYSTEM, ENV, sealed, now=start)
        with unit_of_work(engine) as session:
            found = gate_report.report(session, SYSTEM, ENV, NAME)
        assert [(g.name, g.deployment_id is not None) for g in found.gates] == [
            ("board", False),
            ("smoke", True),
        ]
        assert [w.gate for w in found.waiting_on] == ["board"]  # held at deploy: smoke is for steps
        with unit_of_work(engine, write=True) as session:
            store.delete_gate(session, SYSTEM, ENV, "board")
        report = runner.run_once(engine, keyring, settings)
        assert report.applied == 1  # applied now: its first step comes due a minute later
        later = datetime.now().astimezone() + timedelta(minutes=2)
        report = runner.run_once(engine, keyring, settings, now=later)
    assert (report.passed, report.steps) == (1, 1)
    assert runs(engine)[0].gate_name == "smoke"
    sent = receiver.received[0]
    assert verify(SECRET, sent.body, sent.headers["X-Mcpreg-Signature"], now=time.time())


def test_a_failing_test_set_holds_and_names_the_failing_case(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[dict[str, Any]] = []

    def run_for_gate(*_: Any, **given: Any) -> GateOutcome:
        asked.append(given)
        return GateOutcome(passed=False, detail="1 of 2 cases failed", run_id=7, failing=["paris-forecast"])

    hook = types.ModuleType("mcpreg.services.testsets.gate")
    hook.run_for_gate = run_for_gate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mcpreg.services.testsets.gate", hook)
    add_gate(engine, keyring, "smoke", {"kind": "testset", "testset": "smoke", "points": ["step"]})
    deploy(engine, start, strategy="staged", steps="10:1m,50:1m")
    report = runner.run_once(engine, keyring, settings)
    assert (report.held, report.steps) == (1, 0)
    run = runs(engine)[0]
    assert (run.result, run.testset_run_id) == ("fail", 7)
    assert orjson.loads(run.failing or "[]") == ["paris-forecast"]
    assert run.failure is not None and "paris-forecast" in run.failure
    assert asked == [{"server": NAME, "environment": ENV, "version": "1.1.0", "testset": "smoke"}]


def test_each_attempt_is_claimed_once(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, staged: tuple[Receiver, datetime]
) -> None:
    _receiver, now = staged
    with unit_of_work(engine) as session:
        (check,) = runner.due_checks(session, now)
    assert runner.claim(engine, check, now) is not None
    assert runner.claim(engine, check, now) is None  # another replica's insert of the same attempt
    with unit_of_work(engine) as session:
        assert runner.due_checks(session, now) == []  # running: nobody else takes it


def test_a_public_registry_does_not_post_to_a_webhook_that_resolves_to_a_private_address(
    engine: sa.Engine, keyring: KeyRing, database_url: str, tmp_path: Path, start: datetime
) -> None:
    public = settings_for(database_url, tmp_path, MCPREG_ALLOW_PRIVATE_REMOTES="0")
    with receiving(200) as receiver:
        add_gate(engine, keyring, "ci", webhook(receiver.url, points=["step"]))  # allowed when it was set
        deploy(engine, start, strategy="staged", steps="10:1m,50:1m")
        report = runner.run_once(engine, keyring, public)
    assert (report.held, receiver.received) == (1, [])
    run = runs(engine)[0]
    assert run.result == "error" and "private address 127.0.0.1" in (run.failure or "")


def test_the_webhook_secret_is_sealed_and_moves_to_a_new_primary_key_on_rotation(
    engine: sa.Engine, keyring: KeyRing
) -> None:
    add_gate(engine, keyring, "ci", webhook("https://ci.example.com/gate"))
    with unit_of_work(engine) as session:
        (row,) = session.exec(select(StoredGate)).all()
    assert row.secret_sealed and SECRET not in row.secret_sealed and SECRET not in row.spec
    entry = generate_entry("k2")
    rotate(engine, KeyRing.parse(f"{entry},{TEST_KEYS}"))
    with unit_of_work(engine) as session:
        (moved,) = session.exec(select(StoredGate)).all()
    assert moved.secret_key_id == "k2"
    assert store.secret_of(KeyRing.parse(entry), moved) == SECRET  # the old key is no longer needed


def test_two_runners_at_once_deliver_each_attempt_once(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, staged: tuple[Receiver, datetime]
) -> None:
    receiver, now = staged
    barrier = threading.Barrier(3)
    reports: list[runner.RunnerReport] = []

    def replica() -> None:
        barrier.wait(timeout=10)
        reports.append(runner.run_once(engine, keyring, settings, now=now))

    threads = [threading.Thread(target=replica) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.ran for r in reports) == [0, 0, 1]
    assert len(receiver.received) == 1
    assert [(r.attempt, r.result) for r in runs(engine)] == [(1, "fail")]


def test_a_requests_gate_named_like_an_environments_is_refused_naming_it(
    engine: sa.Engine, keyring: KeyRing, start: datetime
) -> None:
    add_gate(engine, keyring, "ci", webhook("https://ci.example.com/gate", points=["promote"]))
    gates = [{"name": "ci", "kind": "testset", "testset": "smoke"}]
    with pytest.raises(RegistryError) as refused:
        deploy(engine, start, strategy="canary", weight=10, gates=gates)
    assert (refused.value.code, refused.value.field) == ("invalid_gate", "gates[0].name")
    assert state(engine).canary_version is None


def test_a_promotion_can_carry_its_own_deploy_gate_and_is_held_by_it(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        deployments.deploy(
            session, SYSTEM, "staging", parse_deploy({"server": NAME, "version": "1.1.0"}), now=start
        )
    with receiving(200) as receiver:
        gates = [{"name": "change-board", **webhook(receiver.url, points=["deploy"])}]
        request = parse_promote({"from": "staging", "to": "production", "gates": gates}, private_remotes=True)
        with unit_of_work(engine, write=True) as session:
            sealed = replace(request, gates=store.seal_specs(keyring, request.gates))
            held = deployments.promote(session, SYSTEM, NAME, "1.1.0", sealed, now=start)
        assert (held.kind, held.state) == ("promotion", "held")
        assert runner.run_once(engine, keyring, settings).applied == 1
    assert state(engine).stable_version == "1.1.0"
    assert orjson.loads(receiver.received[0].body)["point"] == "deploy"


def test_a_step_held_by_its_gate_is_still_aborted_by_its_analysis(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, start: datetime
) -> None:
    analysed = {
        "interval": 10,
        "failureLimit": 1,
        "checks": [{"kind": "errorRate", "max": 0.05, "minRequests": 5}],
    }
    with receiving(500) as receiver:
        add_gate(engine, keyring, "ci", webhook(receiver.url, points=["step"]))
        deploy(engine, start, strategy="staged", steps="10:1m,50:1m", analysis=analysed)
        assert runner.run_once(engine, keyring, settings, now=start + timedelta(seconds=70)).held == 1
        with unit_of_work(engine, write=True) as session:  # a third of the canary's calls fail
            add_traffic(session, "1.1.0", start, 30, ok=2, errors=1, server=NAME, environment=ENV)
        with unit_of_work(engine, write=True) as session:
            _stored, acted = analysis.analyse(session, start + timedelta(seconds=80), settle=6.0)
        assert [a.action for a in acted] == ["abort"]
        aborted = state(engine)
        assert (aborted.rollout_status, aborted.canary_weight, aborted.rollout_index) == ("aborted", 0.0, 0)
        assert runner.run_once(engine, keyring, settings, now=start + timedelta(minutes=5)).ran == 0
    assert len(receiver.received) == 1


def test_an_attempt_left_running_by_a_lost_replica_is_given_up_after_its_timeout(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, staged: tuple[Receiver, datetime]
) -> None:
    receiver, now = staged
    with unit_of_work(engine) as session:
        (check,) = runner.due_checks(session, now)
    assert runner.claim(engine, check, now) is not None  # ...and that replica died
    assert runner.run_once(engine, keyring, settings, now=now + timedelta(seconds=39)).ran == 0
    report = runner.run_once(engine, keyring, settings, now=now + timedelta(seconds=41))  # 10 s + 30 s
    assert report.ran == 1
    lost, retried = runs(engine)
    assert (lost.attempt, lost.result, lost.failure) == (1, "error", "the runner of this attempt was lost")
    assert (retried.attempt, retried.result) == (2, "fail")
    assert len(receiver.received) == 1
