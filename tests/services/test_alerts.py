"""Alerts on both backends, delivered to a real webhook receiver: an automatic rollback fires
one signed alert, an error-rate rule fires once over a bad window and resolves, a health
rule fires on unhealthy, two replicas' passes deliver once, a failing receiver is retried
with the attempts recorded, and the secret is never stored in clear or logged."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from mcpreg.api.config import load_app_keyring
from mcpreg.crypto import KeyRing, key_id_of
from mcpreg.crypto.keyring import generate_entry
from mcpreg.db.alert_tables import AlertFiring, AlertRule
from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import JournalEntry
from mcpreg.domain import signing
from mcpreg.domain.alerts import MAX_ATTEMPTS, parse_rule
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.health import Thresholds
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import alerts, analysis, health, journal, releases, rotation
from mcpreg.services import traffic as traffic_service
from mcpreg.services.alerts import rules
from mcpreg.services.deploy import deployments
from mcpreg.settings import Settings
from tests.conftest import server_doc
from tests.support.receivers import Receiver, receiving
from tests.support.traffic import add_traffic
from tests.support.waiting import wait_until

NAME = "io.github.acme/weather"
ENV = "production"
SECRET = "alert-signing-secret-0123456789"
INTERVAL, SETTLE = 10, 6.0


@pytest.fixture
def keyring(settings: Settings) -> KeyRing:
    return load_app_keyring(settings)


@pytest.fixture
def deployed(engine: sa.Engine) -> datetime:
    """1.0.0 stable in production, an hour ago."""
    start = datetime.now().astimezone() - timedelta(hours=1)
    with unit_of_work(engine, write=True) as session:
        for version in ("1.0.0", "1.1.0"):
            releases.create_release(session, SYSTEM, server_doc(NAME, version))
        deployments.deploy(
            session, SYSTEM, ENV, parse_deploy({"server": NAME, "version": "1.0.0"}), now=start
        )
    return start


def run(engine: sa.Engine, keyring: KeyRing, *args: Any, **kwargs: Any) -> alerts.PassReport:
    """One alerts pass; the receivers are on loopback, which a private registry allows."""
    return alerts.run_once(engine, keyring, *args, private_remotes=True, **kwargs)


def add_rule(engine: sa.Engine, keyring: KeyRing, name: str, url: str, **body: Any) -> None:
    spec = parse_rule({"url": url, "secret": SECRET, **body}, private_remotes=True, creating=True)
    with unit_of_work(engine, write=True) as session:
        rules.set_rule(session, keyring, SYSTEM, ENV, name, spec)


traffic = partial(add_traffic, server=NAME, environment=ENV)


def firings(engine: sa.Engine) -> list[AlertFiring]:
    with unit_of_work(engine) as session:
        return list(session.exec(select(AlertFiring).order_by(AlertFiring.id)).all())  # type: ignore[arg-type]


def verified(receiver: Receiver, index: int = 0) -> dict[str, Any]:
    """The body of the ``index``th request, after checking its headers and signature."""
    got = receiver.received[index]
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert headers["x-mcpreg-event"] == "alert" and headers["x-mcpreg-delivery"]
    assert signing.verify(SECRET, got.body, headers["x-mcpreg-signature"], now=time.time())
    assert not signing.verify(
        "another-secret-entirely", got.body, headers["x-mcpreg-signature"], now=time.time()
    )
    body: dict[str, Any] = orjson.loads(got.body)
    return body


def test_an_automatic_rollback_fires_one_signed_alert(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    start = deployed + timedelta(minutes=1)
    with unit_of_work(engine, write=True) as session:
        body = {
            "server": NAME,
            "version": "1.1.0",
            "strategy": "staged",
            "steps": "10:1m,50:1m",
            "analysis": {
                "interval": INTERVAL,
                "failureLimit": 0,
                "checks": [{"kind": "errorRate", "max": 0.05, "minRequests": 5}],
            },
        }
        deployments.deploy(session, SYSTEM, ENV, parse_deploy(body), now=start)
        traffic(session, "1.1.0", start, 20, ok=2, errors=1)
        traffic(session, "1.0.0", start, 20, ok=20, errors=0)
    with receiving(200) as receiver:
        add_rule(engine, keyring, "rolled-back", receiver.url, kind="rollback")
        now = start + timedelta(seconds=INTERVAL + SETTLE)
        with unit_of_work(engine, write=True) as session:
            _stored, acted = analysis.analyse(session, now, settle=SETTLE)
        assert [a.action for a in acted] == ["abort"]
        report = run(engine, keyring, now)
        assert report.delivered == 1
        assert run(engine, keyring, now + timedelta(seconds=5)).delivered == 0
        with unit_of_work(engine, write=True) as session:  # the next pass acts on nothing more
            assert analysis.analyse(session, now + timedelta(seconds=INTERVAL), settle=SETTLE)[1] == []
        assert len(receiver.received) == 1
        sent = verified(receiver)
    assert (sent["kind"], sent["rule"], sent["server"], sent["version"]) == (
        "rollback",
        "rolled-back",
        NAME,
        "1.1.0",
    )
    assert sent["numbers"]["intervals"][0]["canaryErrorRate"] == pytest.approx(0.3333, abs=1e-3)
    [firing] = firings(engine)
    assert (firing.delivery, firing.attempts, firing.kind) == ("delivered", 1, "rollback")
    with unit_of_work(engine) as session:
        query = select(JournalEntry.action).where(col(JournalEntry.action).startswith("alert."))
        actions = session.exec(query.order_by(col(JournalEntry.id))).all()
    assert actions == ["alert.set", "alert.fire"]


def test_alert_changes_leave_the_public_catalogue_caches_alone(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    with unit_of_work(engine) as session:
        _every, catalogue = journal.current_generations(session)
    with receiving(200) as receiver:
        add_rule(engine, keyring, "down", receiver.url, kind="health")
        with unit_of_work(engine, write=True) as session:
            health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
        assert run(engine, keyring).fired == 1
    with unit_of_work(engine) as session:
        assert journal.current_generations(session)[1] == catalogue


def test_an_error_rate_rule_fires_once_over_a_bad_window_and_resolves(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    bad = deployed + timedelta(minutes=5)
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.0.0", bad, 30, ok=8, errors=2)  # 20% errors for 30 s
        traffic(session, "1.0.0", bad + timedelta(seconds=120), 30, ok=10, errors=0)
    with receiving(200) as receiver:
        add_rule(
            engine,
            keyring,
            "errors",
            receiver.url,
            kind="errorRate",
            threshold=0.1,
            window="1m",
            minRequests=50,
        )
        early = run(engine, keyring, bad + timedelta(seconds=3))  # 30 requests: too few to judge
        assert (early.fired, early.resolved) == (0, 0)
        during = bad + timedelta(seconds=30)
        assert run(engine, keyring, during, error_rates=False).fired == 0  # left for later
        assert run(engine, keyring, during).fired == 1
        for later in (5, 10, 20):  # it still holds: it does not fire again
            assert run(engine, keyring, during + timedelta(seconds=later)).fired == 0
        quiet = run(engine, keyring, bad + timedelta(seconds=100))  # no traffic: no verdict
        assert (quiet.fired, quiet.resolved) == (0, 0)
        assert run(engine, keyring, bad + timedelta(seconds=150)).resolved == 1
        assert len(receiver.received) == 1
        sent = verified(receiver)
    assert sent["numbers"]["requests"] == 300 and sent["numbers"]["errors"] == 60
    assert sent["numbers"]["errorRate"] == pytest.approx(0.2)
    [firing] = firings(engine)
    assert firing.resolved_at == bad + timedelta(seconds=150) and firing.open_key is None
    assert firing.delivery == "delivered"


def test_the_error_counts_summed_in_sql_agree_with_the_summed_aggregates(
    engine: sa.Engine, deployed: datetime
) -> None:
    start = deployed + timedelta(minutes=5)
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.0.0", start, 20, ok=8, errors=2)
        traffic(session, "1.1.0", start, 10, ok=1, errors=3)
    since, until = start + timedelta(seconds=5), start + timedelta(seconds=15)
    with unit_of_work(engine) as session:
        counts = traffic_service.error_counts(session, ENV, [NAME], since, until)
        totals, _replicas = traffic_service.summed(session, ENV, NAME, since, until)
    expected = {(NAME, v): (t.requests, t.requests - t.outcomes.get("ok", 0)) for v, t in totals.items()}
    assert counts == expected == {(NAME, "1.0.0"): (100, 20), (NAME, "1.1.0"): (20, 15)}


def test_a_health_rule_fires_on_unhealthy_not_before(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    thresholds = Thresholds(3, 2)
    with receiving(200) as receiver:
        add_rule(engine, keyring, "down", receiver.url, kind="health", state="unhealthy")
        for _ in range(2):  # degraded first
            with unit_of_work(engine, write=True) as session:
                health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=thresholds)
        assert run(engine, keyring).fired == 0
        with unit_of_work(engine, write=True) as session:
            assert (
                health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=thresholds)[1]
                == "unhealthy"
            )
        assert run(engine, keyring).fired == 1
        assert run(engine, keyring).fired == 0
        for _ in range(2):
            with unit_of_work(engine, write=True) as session:
                health.record(session, ENV, NAME, "1.0.0", True, thresholds=thresholds)
        assert run(engine, keyring).resolved == 1
        sent = verified(receiver)
    assert (sent["kind"], sent["numbers"]["state"], sent["numbers"]["detail"]) == (
        "health",
        "unhealthy",
        "refused",
    )
    assert len(receiver.received) == 1


def test_two_replicas_passes_racing_fire_and_deliver_once(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    with receiving(200) as receiver:
        add_rule(engine, keyring, "down", receiver.url, kind="health")
        barrier = threading.Barrier(2)
        reports: list[alerts.PassReport] = []

        def replica() -> None:
            barrier.wait(10)
            reports.append(run(engine, keyring))

        threads = [threading.Thread(target=replica) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(reports) == 2
        assert sum(r.fired for r in reports) == 1 and sum(r.delivered for r in reports) == 1
        assert len(receiver.received) == 1
    assert len(firings(engine)) == 1


def test_a_receiver_answering_500_is_retried_with_backoff_and_each_attempt_recorded(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    now = datetime.now().astimezone()
    with receiving(500, 500, 200) as receiver:
        add_rule(engine, keyring, "down", receiver.url, kind="health")
        assert run(engine, keyring, now).retrying == 1
        assert run(engine, keyring, now + timedelta(seconds=0.5)).retrying == 0  # not due yet
        assert run(engine, keyring, now + timedelta(seconds=1)).retrying == 1
        assert run(engine, keyring, now + timedelta(seconds=2.5)).delivered == 0  # 2 s after the 2nd
        assert run(engine, keyring, now + timedelta(seconds=3)).delivered == 1
        assert [verified(receiver, i)["attempt"] for i in range(3)] == [1, 2, 3]
        ids = {r.headers.get("X-Mcpreg-Delivery") for r in receiver.received}
    [firing] = firings(engine)
    log = orjson.loads(firing.attempt_log)
    assert (firing.delivery, firing.attempts) == ("delivered", 3)
    assert [a["status"] for a in log] == [500, 500, 200] and log[0]["error"] == "HTTP 500"
    assert {a["deliveryId"] for a in log} == ids


def test_a_slow_receiver_does_not_hold_up_another_receivers_delivery(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    """Both receivers keep their request unanswered: the second arrives only if they are sent at once."""
    with unit_of_work(engine, write=True) as session:
        health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    with receiving(200) as one, receiving(200) as two:
        add_rule(engine, keyring, "one", one.url, kind="health")
        add_rule(engine, keyring, "two", two.url, kind="health")
        one.hold()
        two.hold()
        reports: list[alerts.PassReport] = []
        passing = threading.Thread(target=lambda: reports.append(run(engine, keyring)))
        passing.start()
        wait_until(lambda: one.received and two.received, 10, "both POSTs waiting at once")
        one.release()
        two.release()
        passing.join(30)
    assert reports[0].delivered == 2


def test_a_receiver_that_always_fails_ends_failed_after_the_last_attempt(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    now = datetime.now().astimezone()
    with receiving(503) as receiver:
        add_rule(engine, keyring, "down", receiver.url, kind="health")
        for step in range(MAX_ATTEMPTS + 2):
            run(engine, keyring, now + timedelta(minutes=step))
        assert len(receiver.received) == MAX_ATTEMPTS
    [firing] = firings(engine)
    assert (firing.delivery, firing.attempts, firing.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)


def test_the_secret_is_sealed_and_never_logged(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with unit_of_work(engine, write=True) as session:
        health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    with receiving(500, 200) as receiver:
        add_rule(engine, keyring, "down", receiver.url, kind="health")
        run(engine, keyring)
    with engine.connect() as connection:
        dumped = [
            str(row)
            for table in ("alert_rule", "alert_firing", "journal")
            for row in connection.exec_driver_sql(f"SELECT * FROM {table}")
        ]
    assert dumped and not any(SECRET in row for row in dumped)
    assert SECRET not in caplog.text
    with unit_of_work(engine) as session:
        row = session.exec(select(AlertRule)).one()
        assert rules.secret_of(keyring, ENV, row) == SECRET


def test_a_public_registry_does_not_post_to_a_private_address(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    with receiving(200) as receiver:
        add_rule(engine, keyring, "down", receiver.url.replace("127.0.0.1", "localhost"), kind="health")
        assert alerts.run_once(engine, keyring, private_remotes=False).retrying == 1
        assert receiver.received == []
    [attempt] = orjson.loads(firings(engine)[0].attempt_log)
    assert attempt["status"] is None and "private address" in attempt["error"]


def test_a_secret_the_key_ring_cannot_unseal_is_a_failed_attempt_not_a_failed_pass(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        health.record(session, ENV, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    other = KeyRing.parse(generate_entry("other"))
    with receiving(200) as receiver:
        add_rule(engine, keyring, "down", receiver.url, kind="health")
        assert run(engine, other).retrying == 1
        assert receiver.received == []
    [firing] = firings(engine)
    [attempt] = orjson.loads(firing.attempt_log)
    assert attempt["status"] is None and "cannot be unsealed" in attempt["error"]


def test_rotating_the_keys_moves_a_rule_secret_to_the_new_primary_key(
    engine: sa.Engine, keyring: KeyRing, deployed: datetime, settings: Settings
) -> None:
    add_rule(engine, keyring, "down", "https://hooks.example/alerts", kind="health")
    new = generate_entry("k2")
    rotation.rotate(engine, KeyRing.parse(f"{new},{settings.secret_keys}"))
    with unit_of_work(engine) as session:
        row = session.exec(select(AlertRule)).one()
        assert key_id_of(row.secret) == "k2"
        assert rules.secret_of(KeyRing.parse(new), ENV, row) == SECRET  # the old key may go
