"""Test sets over ``/api``: stored per server, run through the gateway's upstream path on real
upstream MCP servers (a good 1.0.0, and a 1.1.0 whose ``forecast`` answers wrongly), their
runs stored and listed; bad documents refused naming the field. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.runtime import runtime
from mcpreg.domain.gates import GateOutcome
from mcpreg.services.testsets.gate import run_for_gate
from tests.conftest import make_token, publish
from tests.support.gateway_clients import NAME, deploy, release
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.upstreams import Upstream, remote_doc, upstreams

SETS = f"/api/servers/{NAME}/testsets"
SMOKE = f"{SETS}/smoke"

CASES: list[dict[str, Any]] = [
    {
        "name": "sunny in Paris",
        "tool": "forecast",
        "arguments": {"city": "Paris"},
        "expect": {"subset": {"sky": "sunny"}},
    },
    {"name": "names its version", "tool": "whoami", "expect": {"regex": r"\"version\": \"1\.\d+\.0\""}},
    {
        "name": "says it fails",
        "tool": "fail",
        "expect": {"exact": "Error executing tool fail", "isError": True},
    },
]


@pytest.fixture(scope="module")
def echo() -> Iterator[dict[str, Upstream]]:
    with upstreams() as running:
        running["1.1.0"].wrong = True
        yield running


@pytest.fixture
def released(app_api: httpx.Client, echo: dict[str, Upstream]) -> httpx.Client:
    """Both versions published; 1.0.0 stable in production."""
    release(app_api, echo, "1.0.0", "1.1.0")
    deploy(app_api, "1.0.0")
    return app_api


def put(api: httpx.Client, cases: list[dict[str, Any]], name: str = "smoke") -> httpx.Response:
    return api.put(f"{SETS}/{name}", json={"description": "before promoting", "cases": cases})


def start(api: httpx.Client, name: str = "smoke", **body: str) -> dict[str, Any]:
    response = api.post(f"{SETS}/{name}/runs", json={"environment": "production", **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_set_passes_on_the_good_stable_and_its_run_is_stored(released: httpx.Client) -> None:
    created = put(released, CASES)
    assert created.status_code == 201, created.text
    assert created.json()["revision"] == 1 and created.json()["cases"][1]["expect"]["isError"] is False
    run = start(released)
    print(f"3 cases on a loopback upstream: {run['elapsedMs']} ms (connecting included)")
    assert (run["version"], run["track"], run["result"]) == ("1.0.0", "stable", "pass"), run
    assert (run["total"], run["failed"], run["failing"], run["trigger"]) == (3, 0, [], "person")
    assert run["startedBy"] == "admin-test" and run["detail"] == "all 3 cases passed"
    assert [c["result"] for c in run["cases"]] == ["pass"] * 3
    assert '"sky": "sunny"' in run["cases"][0]["got"] and run["cases"][0]["elapsedMs"] > 0
    listed = released.get(f"{SMOKE}/runs").json()
    assert [r["id"] for r in listed["runs"]] == [run["id"]] and "cases" not in listed["runs"][0]
    shown = released.get(f"{SMOKE}/runs/{run['id']}").json()
    assert shown == run
    assert released.delete(SMOKE).status_code == 204  # the set goes, its runs stay
    assert [r["id"] for r in released.get(f"{SMOKE}/runs").json()["runs"]] == [run["id"]]


def test_one_failing_case_fails_the_run_on_the_canary_and_is_named(released: httpx.Client) -> None:
    put(released, CASES)
    deploy(released, "1.1.0", strategy="canary", weight=10)
    run = start(released)  # no version: the canary
    assert (run["version"], run["track"], run["result"]) == ("1.1.0", "canary", "fail"), run
    assert run["failing"] == ["sunny in Paris"] and run["failed"] == 1
    assert run["detail"].startswith("case 'sunny in Paris' failed: ")
    failed = run["cases"][0]
    assert failed["result"] == "fail" and '"hail"' in failed["got"] and '"sunny"' in failed["expected"]
    again = start(released, version="1.0.0")  # the stable, named
    assert (again["track"], again["result"]) == ("stable", "pass")
    assert [r["result"] for r in released.get(f"{SMOKE}/runs").json()["runs"]] == ["pass", "fail"]


def test_regex_subset_and_exact_each_pass_and_fail(released: httpx.Client) -> None:
    paris = {"city": "Paris"}
    cases = [
        {"name": "regex hit", "tool": "forecast", "arguments": paris, "expect": {"regex": "sun+y"}},
        {"name": "regex miss", "tool": "forecast", "arguments": paris, "expect": {"regex": "^rain"}},
        {"name": "subset hit", "tool": "forecast", "arguments": paris, "expect": {"subset": {"highC": 21.0}}},
        {
            "name": "subset miss",
            "tool": "forecast",
            "arguments": paris,
            "expect": {"subset": {"highC": "21"}},
        },
        {
            "name": "exact hit",
            "tool": "forecast",
            "arguments": paris,
            "expect": {"exact": {"city": "Paris", "sky": "sunny", "highC": 21}},
        },
        {
            "name": "exact miss",
            "tool": "forecast",
            "arguments": paris,
            "expect": {"exact": {"city": "Paris"}},
        },
        {"name": "unexpected error", "tool": "forecast", "expect": {"subset": {}}},
        {"name": "no such tool", "tool": "nope", "expect": {"isError": True}},
    ]
    put(released, cases)
    run = start(released)
    assert {c["name"]: c["result"] for c in run["cases"]} == {
        "regex hit": "pass",
        "regex miss": "fail",
        "subset hit": "pass",
        "subset miss": "fail",
        "exact hit": "pass",
        "exact miss": "fail",
        "unexpected error": "fail",
        "no such tool": "pass",
    }
    assert run["failing"] == ["regex miss", "subset miss", "exact miss", "unexpected error"]
    assert run["detail"].startswith("case 'regex miss' failed: ") and "(3 more did not pass)" in run["detail"]


BAD: list[tuple[list[dict[str, Any]], str, str]] = [
    (
        [{"name": "a", "tool": "t", "expect": {"regex": "("}}],
        "cases[0].expect.regex",
        "validation_failed",
    ),
    (
        [
            {"name": "a", "tool": "t", "expect": {"exact": 1}},
            {"name": "b", "tool": "t", "expect": {"regex": "["}},
        ],
        "cases[1].expect.regex",
        "validation_failed",
    ),
    (
        [{"name": "a", "tool": "t", "expect": {"subset": 3}}],
        "cases[0].expect.subset",
        "validation_failed",
    ),
    ([{"name": "a", "tool": "t", "expect": {}}], "cases[0].expect", "validation_failed"),
    (
        [{"name": "a", "tool": "t", "arguments": "x", "expect": {"exact": 1}}],
        "cases[0].arguments",
        "validation_failed",
    ),
    ([{"name": "a", "tool": "t", "expect": {"exact": 1}, "why": 1}], "cases[0].why", "unknown_field"),
    ([], "cases", "validation_failed"),
]


def test_bad_documents_are_refused_with_422_naming_the_field(
    app_api: httpx.Client, echo: dict[str, Upstream]
) -> None:
    release(app_api, echo, "1.0.0")
    for cases, field, code in BAD:
        assert_problem(put(app_api, cases), 422, code, field)
    assert_problem(app_api.get(SETS + "/bad name"), 422, "validation_failed", "testset")
    assert_problem(app_api.put(SMOKE, json=[]), 400, "invalid_body")
    put(app_api, CASES)
    for body, field, code in [
        ({"environment": ["production"]}, "environment", "validation_failed"),
        ({"environment": "production", "version": 1}, "version", "validation_failed"),
        ({"environment": "production", "client": "me"}, "client", "unknown_field"),
        ({"environment": "production", "version": "not-a-version"}, "version", "invalid_version"),
    ]:
        assert_problem(app_api.post(f"{SMOKE}/runs", json=body), 422, code, field)
    assert_problem(app_api.get(f"{SMOKE}/runs/{2**63}"), 404, "testset_run_not_found")
    assert_problem(app_api.get(f"{SMOKE}/runs", params={"limit": 0}), 422, "validation_failed", "limit")
    assert [t["name"] for t in app_api.get(SETS).json()["testsets"]] == ["smoke"]


def test_missing_sets_runs_and_versions_answer_their_codes(released: httpx.Client) -> None:
    assert_problem(released.get(SMOKE), 404, "testset_not_found", "testset")
    assert_problem(
        released.post(f"{SMOKE}/runs", json={"environment": "production"}), 404, "testset_not_found"
    )
    put(released, CASES)
    assert_problem(released.get(f"{SMOKE}/runs/99"), 404, "testset_run_not_found")
    assert_problem(released.post(f"{SMOKE}/runs", json={}), 422, "validation_failed", "environment")
    assert_problem(
        released.post(f"{SMOKE}/runs", json={"environment": "nowhere"}), 404, "environment_not_found"
    )
    missing = released.post(f"{SMOKE}/runs", json={"environment": "production", "version": "9.9.9"})
    assert_problem(missing, 404, "version_not_found", "version")
    assert_problem(released.post(f"{SMOKE}/runs", json={"environment": "staging"}), 404, "no_deployment")
    assert released.get(SETS).json()["testsets"][0]["cases"] == 3
    assert released.delete(SMOKE).status_code == 204
    assert_problem(released.delete(SMOKE), 404, "testset_not_found")


def test_a_version_not_deployed_there_runs_when_named(released: httpx.Client) -> None:
    put(released, CASES)
    run = start(released, version="1.1.0")
    assert (run["track"], run["result"], run["failing"]) == (None, "fail", ["sunny in Paris"])


def test_an_unreachable_upstream_is_an_error_of_every_case(app_api: httpx.Client) -> None:
    publish(app_api, remote_doc("1.0.0", "http://127.0.0.1:9/mcp"))  # the discard port: refused
    deploy(app_api, "1.0.0")
    put(app_api, CASES)
    run = start(app_api)
    assert run["result"] == "error" and [c["result"] for c in run["cases"]] == ["error"] * 3
    assert (
        run["detail"].startswith("case 'sunny in Paris' could not run: ") and run["cases"][0]["got"] is None
    )


def test_storing_needs_publish_and_running_needs_deploy_over_the_environment(
    app_server: InProcess, released: httpx.Client, engine: sa.Engine
) -> None:
    reader = make_token(engine, "reader", ["read"])
    publisher = make_token(engine, "publisher", ["publish"], namespaces=["io.github.acme/*"])
    deployer = make_token(engine, "deployer", ["deploy"], environments=["staging"])
    with app_server.client(reader) as client:
        assert_problem(put(client, CASES), 403, "permission_denied")
    with app_server.client(publisher) as client:
        assert put(client, CASES).status_code == 201
        assert put(client, CASES).status_code == 200  # unchanged: still revision 1
        assert client.get(SMOKE).json()["revision"] == 1
        assert_problem(
            client.post(f"{SMOKE}/runs", json={"environment": "production"}), 403, "permission_denied"
        )
    with app_server.client(deployer) as client:
        denied = client.post(f"{SMOKE}/runs", json={"environment": "production"})
        assert_problem(denied, 403, "environment_denied")
    changed = put(released, [*CASES[:2]])
    assert changed.status_code == 200 and changed.json()["revision"] == 2
    audit = released.get("/api/audit").json()
    assert "testset.put" in {e["action"] for e in audit["entries"]}


def test_the_gate_hook_runs_the_set_stores_the_run_and_names_the_failing_case(
    app_server: InProcess, released: httpx.Client, engine: sa.Engine
) -> None:
    put(released, CASES)
    rt = runtime(app_server.app)
    passed = run_for_gate(
        engine,
        rt.keyring,
        rt.settings,
        server=NAME,
        environment="production",
        version="1.0.0",
        testset="smoke",
    )
    assert passed.passed and passed.failing == [] and passed.run_id is not None
    failed = run_for_gate(
        engine,
        rt.keyring,
        rt.settings,
        server=NAME,
        environment="production",
        version="1.1.0",
        testset="smoke",
    )
    assert (failed.passed, failed.failing) == (False, ["sunny in Paris"])
    assert "sunny in Paris" in failed.detail
    stored = released.get(f"{SMOKE}/runs/{failed.run_id}").json()
    assert (stored["trigger"], stored["startedBy"], stored["result"]) == ("gate", "gate", "fail")
    missing = run_for_gate(
        engine,
        rt.keyring,
        rt.settings,
        server=NAME,
        environment="production",
        version="1.0.0",
        testset="other",
    )
    assert missing == GateOutcome(False, missing.detail, None, []) and "other" in missing.detail


def test_a_secret_the_upstream_echoes_is_masked_in_the_stored_run(
    app_api: httpx.Client, echo: dict[str, Upstream]
) -> None:
    secret = "sk-testset-0123456789"
    header = {"name": "X-Api-Key", "isSecret": True, "isRequired": True, "description": "the key"}
    remote = {"type": "streamable-http", "url": echo["1.0.0"].url, "headers": [header]}
    publish(app_api, remote_doc("1.0.0", echo["1.0.0"].url, remotes=[remote]))
    scope = {"environment": "production"}
    assert app_api.put(
        f"/api/servers/{NAME}/secrets/X-Api-Key", params=scope, json={"value": secret}
    ).is_success
    deploy(app_api, "1.0.0")
    sent = {
        "name": "sends the key",
        "tool": "whoami",
        "expect": {"subset": {"headers": {"x-api-key": secret}}},
    }
    wrong = {"name": "wrong key", "tool": "whoami", "expect": {"subset": {"headers": {"x-api-key": "nope"}}}}
    put(app_api, [sent, wrong])
    run = start(app_api)
    assert [c["result"] for c in run["cases"]] == ["pass", "fail"]  # matched on what came back
    shown = app_api.get(f"{SMOKE}/runs/{run['id']}").text
    assert secret not in shown and "********" in shown


def test_a_call_past_its_timeout_is_an_error_and_the_next_case_still_runs(
    released: httpx.Client, echo: dict[str, Upstream]
) -> None:
    slow = {"name": "waits", "tool": "slow", "arguments": {"steps": 1}, "expect": {"regex": "done"}}
    quick = {
        "name": "answers",
        "tool": "forecast",
        "arguments": {"city": "Oslo"},
        "expect": {"subset": {"city": "Oslo"}},
    }
    released.put(SMOKE, json={"timeoutSeconds": 0.5, "cases": [slow, quick]})
    try:
        run = start(released)
    finally:
        echo["1.0.0"].gate.set()  # let the abandoned call end
    assert [(c["result"], c["reason"]) for c in run["cases"]] == [
        ("error", "no answer within 0.5 s"),
        ("pass", ""),
    ]
    assert run["result"] == "error" and run["detail"].startswith("case 'waits' could not run: no answer")
    echo["1.0.0"].reset()
