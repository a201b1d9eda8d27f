"""The alerts API on both backends: rules set, replaced (the secret kept), read and removed;
bad rules get 422 naming the field; firings listed with their attempts; the secret is in
no answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.api.schemas.alerts import AlertFiringList, AlertRule, AlertRuleList
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.health import Thresholds
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import health, releases
from mcpreg.services.deploy import deployments
from tests.conftest import make_token, server_doc, settings_for
from tests.support.inprocess import InProcess
from tests.support.receivers import receiving
from tests.support.waiting import wait_until

RULES = "/api/environments/staging/alerts"
SECRET = "do-not-show-this-secret"
NAME = "io.github.acme/weather"


def rule(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "errorRate",
        "url": "https://hooks.example/alerts",
        "secret": SECRET,
        "threshold": 0.05,
        **extra,
    }


def test_a_rule_is_set_replaced_read_and_removed_without_its_secret(app_api: httpx.Client) -> None:
    created = app_api.put(f"{RULES}/errors", json=rule(window="10m", minRequests=100))
    assert created.status_code == 201
    shown = AlertRule.model_validate(created.json())
    assert (shown.kind, shown.threshold, shown.window, shown.min_requests, shown.secret_set) == (
        "errorRate",
        0.05,
        600,
        100,
        True,
    )
    replaced = app_api.put(f"{RULES}/errors", json={"kind": "health", "url": "https://hooks.example/h"})
    assert replaced.status_code == 200 and replaced.json()["state"] == "unhealthy"
    assert "threshold" not in replaced.json()
    listed = AlertRuleList.model_validate(app_api.get(RULES).json())
    assert [r.name for r in listed.rules] == ["errors"]
    answers = [created.text, replaced.text, app_api.get(RULES).text, app_api.get(f"{RULES}/errors").text]
    assert not any(SECRET in text for text in answers)
    assert app_api.delete(f"{RULES}/errors").status_code == 204
    gone = app_api.get(f"{RULES}/errors")
    assert (gone.status_code, gone.json()["code"]) == (404, "not_found")


def test_bad_rules_get_422_naming_the_field(app_api: httpx.Client) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**rule(), "kind": "latency"}, "kind", "validation_failed"),
        (rule(url="ftp://hooks.example/x"), "url", "validation_failed"),
        (rule(url="https://user:pw@hooks.example/x"), "url", "validation_failed"),
        (rule(threshold=2), "threshold", "validation_failed"),
        (rule(threshold=None), "threshold", "validation_failed"),
        (rule(window="5 fortnights"), "window", "validation_failed"),
        (rule(minRequests=0), "minRequests", "validation_failed"),
        (rule(state="unhealthy"), "state", "validation_failed"),
        (rule(secret="short"), "secret", "validation_failed"),
        (rule(secret=None), "secret", "validation_failed"),
        (rule(timeoutSeconds=600), "timeoutSeconds", "validation_failed"),
        (rule(server="not-a-server-name"), "server", "validation_failed"),
        ({**rule(), "colour": "red"}, "colour", "unknown_field"),
        (
            {"kind": "health", "url": "https://hooks.example/x", "secret": SECRET, "state": "sad"},
            "state",
            "validation_failed",
        ),
    ]
    for body, field, code in cases:
        answer = app_api.put(f"{RULES}/bad", json=body)
        problem = answer.json()
        assert (answer.status_code, problem["code"], problem.get("field")) == (422, code, field), body
    bad_name = app_api.put(f"{RULES}/Bad_Name", json=rule())
    assert (bad_name.status_code, bad_name.json()["field"]) == (422, "name")
    assert app_api.get(RULES).json()["rules"] == []


def test_a_namespace_token_manages_only_rules_of_its_own_servers(
    app_server: InProcess, engine: sa.Engine, app_api: httpx.Client
) -> None:
    with unit_of_work(engine, write=True) as session:
        releases.create_release(session, SYSTEM, server_doc(NAME, "1.0.0"))
        releases.create_release(session, SYSTEM, server_doc("io.github.other/tool", "1.0.0"))
    assert app_api.put(f"{RULES}/everything", json=rule()).status_code == 201
    missing = app_api.put(f"{RULES}/ghost", json=rule(server="io.github.nobody/none"))
    assert (missing.status_code, missing.json()["code"]) == (404, "server_not_found")
    with app_server.client(make_token(engine, "acme", ["deploy"], namespaces=["io.github.acme/*"])) as acme:
        for answer in (
            acme.put(f"{RULES}/mine", json=rule()),  # every server's errors to its URL: no
            acme.put(f"{RULES}/theirs", json=rule(server="io.github.other/tool")),
            acme.put(f"{RULES}/everything", json=rule(server=NAME)),  # nor repoint the admin's rule
            acme.get(f"{RULES}/everything"),
            acme.delete(f"{RULES}/everything"),
        ):
            assert (answer.status_code, answer.json()["code"], answer.json()["field"]) == (
                403,
                "namespace_denied",
                "server",
            )
        assert acme.put(f"{RULES}/mine", json=rule(server=NAME)).status_code == 201
        assert [r["name"] for r in acme.get(RULES).json()["rules"]] == ["mine"]
    assert [r["name"] for r in app_api.get(RULES).json()["rules"]] == ["everything", "mine"]


def test_a_read_token_may_read_rules_but_not_set_them(
    app_server: InProcess, engine: sa.Engine, app_api: httpx.Client
) -> None:
    assert app_api.put(f"{RULES}/errors", json=rule()).status_code == 201
    with app_server.client(make_token(engine, "reader", ["read"])) as reader:
        assert reader.get(RULES).status_code == 200
        refused = reader.put(f"{RULES}/other", json=rule())
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
        assert reader.delete(f"{RULES}/errors").status_code == 403


def test_the_alerts_loop_delivers_a_firing_listed_with_its_attempts_and_never_the_secret(
    app_api: httpx.Client, engine: sa.Engine
) -> None:
    with unit_of_work(engine, write=True) as session:
        releases.create_release(session, SYSTEM, server_doc(NAME, "1.0.0"))
        deployments.deploy(session, SYSTEM, "staging", parse_deploy({"server": NAME, "version": "1.0.0"}))
        health.record(session, "staging", NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))
    firings = "/api/environments/staging/alert-firings"
    with receiving(200) as receiver:  # retries: the next test and tests/services/test_alerts.py
        body = {"kind": "health", "url": receiver.url, "secret": SECRET}
        assert app_api.put(f"{RULES}/down", json=body).status_code == 201

        def delivered() -> httpx.Response | None:
            answer = app_api.get(firings, params={"rule": "down"})
            listed = answer.json()["firings"]
            return answer if listed and listed[0]["delivery"] == "delivered" else None

        answer = wait_until(delivered, 15, "the alerts loop delivering the firing")
        assert len(receiver.received) == 1
    assert SECRET not in answer.text
    [firing] = AlertFiringList.model_validate(answer.json()).firings
    assert (firing.rule, firing.kind, firing.version, firing.attempts) == ("down", "health", "1.0.0", 1)
    assert [a.status for a in firing.attempt_log] == [200] and firing.resolved_at is None
    assert app_api.get(firings, params={"limit": 0}).status_code == 422


def test_two_replicas_loops_fire_once_and_send_each_attempt_once(
    engine: sa.Engine, database_url: str, tmp_path: Path, admin_token: str
) -> None:
    """Two apps on one database, their alerts loops polling every 0.1 s."""
    settings = settings_for(database_url, tmp_path, MCPREG_ANALYSIS_POLL="0.1")
    with unit_of_work(engine, write=True) as session:
        releases.create_release(session, SYSTEM, server_doc(NAME, "1.0.0"))
        for version_env in ("staging", "production"):
            deployments.deploy(
                session, SYSTEM, version_env, parse_deploy({"server": NAME, "version": "1.0.0"})
            )
    with (
        InProcess(create_app(settings)) as one,
        InProcess(create_app(settings)),  # the second replica
        receiving(503, 200) as receiver,
        one.client(admin_token) as api,
    ):
        for env in ("staging", "production"):
            body = {"kind": "health", "url": receiver.url, "secret": SECRET}
            assert api.put(f"/api/environments/{env}/alerts/down", json=body).status_code == 201
        with unit_of_work(engine, write=True) as session:
            for env in ("staging", "production"):
                health.record(session, env, NAME, "1.0.0", False, "refused", thresholds=Thresholds(1, 1))

        def delivered() -> list[dict[str, Any]] | None:
            rows = [
                api.get(f"/api/environments/{env}/alert-firings").json()["firings"]
                for env in ("staging", "production")
            ]
            done = [f for listed in rows for f in listed if f["delivery"] == "delivered"]
            return done if len(done) == 2 else None

        done = wait_until(delivered, 20, "both replicas' loops delivering the two firings")
    assert sorted(f["attempts"] for f in done) == [1, 2]
    assert len(receiver.received) == 3  # 503 then 200 for the first, 200 for the second: each sent once
