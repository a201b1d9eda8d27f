"""Promotion gates over HTTP, on the app in process with its gate runner running: declare,
list, replace and remove an environment's gates; bad input names its field; the secret is in
no answer, no journal entry and no log line; a deployment held by its gate is applied once a
real receiver answers 2xx, and ``GET .../gates`` shows the runs."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import JournalEntry
from tests.conftest import make_token, publish, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.receivers import receiving
from tests.support.waiting import wait_until

NAME = "io.github.acme/weather"
ENV = "/api/environments/production"
TARGET = f"{ENV}/servers/{NAME}"
SECRET = "never-show-this-gate-secret"


def hook(url: str = "https://ci.example.com/gate", **extra: Any) -> dict[str, Any]:
    return {"kind": "webhook", "url": url, "secret": SECRET, **extra}


def test_an_environments_gates_are_declared_listed_replaced_and_removed(app_api: httpx.Client) -> None:
    created = app_api.put(f"{ENV}/gates/ci", json=hook(points=["step", "promote"]))
    assert created.status_code == 201, created.text
    assert created.json() == {
        "name": "ci",
        "environment": "production",
        "kind": "webhook",
        "points": ["step", "promote"],
        "url": "https://ci.example.com/gate",
        "timeoutSeconds": 10.0,
        "secretSet": True,
        "retry": {"initialSeconds": 1.0, "maxSeconds": 60.0},
    }
    # Replaced without a secret: the old one stays.
    replaced = app_api.put(f"{ENV}/gates/ci", json={"kind": "webhook", "url": "https://ci.example.com/v2"})
    assert replaced.status_code == 200 and replaced.json()["secretSet"] is True
    assert replaced.json()["points"] == ["deploy", "step", "promote"]
    smoke = app_api.put(f"{ENV}/gates/smoke", json={"kind": "testset", "testset": "smoke"})
    assert smoke.status_code == 201 and "secretSet" not in smoke.json() and "url" not in smoke.json()
    listed = app_api.get(f"{ENV}/gates").json()
    assert [g["name"] for g in listed["gates"]] == ["ci", "smoke"]
    assert app_api.get(f"{ENV}/gates/smoke").json()["testset"] == "smoke"
    assert app_api.delete(f"{ENV}/gates/smoke").status_code == 204
    assert_problem(app_api.get(f"{ENV}/gates/smoke"), 404, "gate_not_found", "name")
    assert_problem(app_api.delete(f"{ENV}/gates/smoke"), 404, "gate_not_found", "name")
    assert_problem(app_api.get("/api/environments/moon/gates"), 404, "environment_not_found")


BAD = [
    (hook("ftp://ci.example.com/"), "url", "invalid_gate"),
    (hook("nope"), "url", "invalid_gate"),
    (hook(points=["deploy", "friday"]), "points[1]", "invalid_gate"),
    ({**hook(), "kind": "carrier-pigeon"}, "kind", "invalid_gate"),
    ({"kind": "webhook", "url": "https://ci.example.com/"}, "secret", "invalid_gate"),
    (hook(timeoutSeconds=-1), "timeoutSeconds", "invalid_gate"),
    (hook(colour="red"), "colour", "unknown_field"),
]


def test_bad_input_is_refused_naming_the_field(app_api: httpx.Client) -> None:
    for body, field, code in BAD:
        assert_problem(app_api.put(f"{ENV}/gates/ci", json=body), 422, code, field)
    assert app_api.get(f"{ENV}/gates").json()["gates"] == []


def test_a_bad_gate_name_and_a_deploy_requests_bad_gate_are_refused_naming_the_field(
    app_api: httpx.Client,
) -> None:
    assert_problem(app_api.put(f"{ENV}/gates/Bad_Name", json=hook()), 422, "invalid_gate", "name")
    publish(app_api, server_doc(version="1.0.0"))
    body = {"server": NAME, "version": "1.0.0", "gates": [{"name": "ci", **hook("http:/x")}]}
    assert_problem(app_api.post(f"{ENV}/deployments", json=body), 422, "invalid_gate", "gates[0].url")
    body["gates"] = [{"name": "ci", **hook(points=["sometime"])}]
    assert_problem(app_api.post(f"{ENV}/deployments", json=body), 422, "invalid_gate", "gates[0].points[0]")


def test_changing_gates_needs_admin_and_reading_them_a_token(
    app_server: InProcess, engine: sa.Engine, app_api: httpx.Client
) -> None:
    assert app_api.put(f"{ENV}/gates/ci", json=hook()).status_code == 201
    with app_server.client(make_token(engine, "deployer", ["deploy"])) as deployer:
        assert_problem(deployer.put(f"{ENV}/gates/ci", json=hook()), 403, "permission_denied")
        assert_problem(deployer.delete(f"{ENV}/gates/ci"), 403, "permission_denied")
        assert deployer.get(f"{ENV}/gates").status_code == 200
    with app_server.client() as anon:
        assert_problem(anon.get(f"{ENV}/gates"), 401, "unauthenticated")


def test_a_deployment_held_by_its_gate_is_applied_once_the_receiver_answers_2xx(
    app_api: httpx.Client, engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for version in ("1.0.0", "1.1.0"):
        publish(app_api, server_doc(version=version))
    assert app_api.post(f"{ENV}/deployments", json={"server": NAME, "version": "1.0.0"}).status_code == 201
    with receiving(503, 200) as receiver:
        gate = hook(receiver.url, points=["deploy"], retry={"initialSeconds": 0.1})
        answers = [app_api.put(f"{ENV}/gates/change-board", json=gate)]
        answers.append(app_api.post(f"{ENV}/deployments", json={"server": NAME, "version": "1.1.0"}))
        assert answers[-1].status_code == 201, answers[-1].text
        held = answers[-1].json()
        assert held["deployment"]["state"] == "held" and held["current"]["stable"] == "1.0.0"
        wait_until(
            lambda: app_api.get(f"{TARGET}/rollout").json()["stable"] == "1.1.0", what="the gate passing"
        )
    answers += [
        app_api.get(f"{TARGET}/gates"),
        app_api.get(f"{ENV}/gates"),
        app_api.get(f"{ENV}/deployments"),
    ]
    gates = answers[-3].json()
    assert [(r["attempt"], r["result"], r["httpStatus"]) for r in gates["runs"]] == [
        (2, "pass", 200),
        (1, "fail", 503),
    ]
    assert gates["waitingOn"] == [] and gates["heldDeployment"] is None
    assert [g["name"] for g in gates["gates"]] == ["change-board"]
    assert gates["runs"][0]["deliveryId"] == receiver.received[1].headers["X-Mcpreg-Delivery"]
    assert answers[-1].json()["deployments"][0]["state"] == "applied"
    for answer in answers:
        assert SECRET not in answer.text
    assert SECRET not in caplog.text
    with unit_of_work(engine) as session:
        journal = session.exec(
            select(JournalEntry).where(JournalEntry.action == "environment.gate.set")
        ).all()
        assert journal and all(SECRET not in f"{e.before} {e.after}" for e in journal)
