"""Who may read what (README "Read policy"): a namespace-limited token reads only its own
servers' deployment requests and history, environment-wide listings included."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import make_token, publish, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem

MINE = "io.github.acme/weather"
THEIRS = "io.github.other/tool"


def deploy(app_api: httpx.Client, env: str, name: str, version: str) -> dict[str, object]:
    response = app_api.post(f"/api/environments/{env}/deployments", json={"server": name, "version": version})
    assert response.status_code == 201, response.text
    return response.json()["deployment"]  # type: ignore[no-any-return]


@pytest.fixture
def two_namespaces(app_api: httpx.Client) -> httpx.Client:
    for name in (MINE, THEIRS):
        for version in ("1.0.0", "1.1.0"):
            publish(app_api, server_doc(name, version))
    for name, version in ((THEIRS, "1.1.0"), (MINE, "1.0.0"), (THEIRS, "1.0.0"), (THEIRS, "1.1.0")):
        deploy(app_api, "staging", name, version)  # the newest records are another namespace's
    return app_api


@pytest.fixture
def acme(app_server: InProcess, engine: sa.Engine) -> Iterator[httpx.Client]:
    token = make_token(engine, "acme-reader", ["read"], namespaces=["io.github.acme/*"])
    with app_server.client(token) as client:
        yield client


def test_a_namespace_token_lists_only_its_own_servers_deployment_requests(
    two_namespaces: httpx.Client, acme: httpx.Client
) -> None:
    everything = two_namespaces.get("/api/environments/staging/deployments").json()["deployments"]
    assert {d["server"] for d in everything} == {MINE, THEIRS}
    listed = acme.get("/api/environments/staging/deployments", params={"limit": 1})
    assert listed.status_code == 200, listed.text
    assert [(d["server"], d["version"]) for d in listed.json()["deployments"]] == [(MINE, "1.0.0")]
    assert {d["server"] for d in acme.get("/api/environments/staging/deployments").json()["deployments"]} == {
        MINE
    }
    assert_problem(
        acme.get("/api/environments/staging/deployments", params={"server": THEIRS}),
        403,
        "namespace_denied",
        "name",
    )
    theirs = next(d for d in everything if d["server"] == THEIRS)
    assert_problem(acme.get(f"/api/environments/staging/deployments/{theirs['id']}"), 403, "namespace_denied")
    mine = next(d for d in everything if d["server"] == MINE)
    assert acme.get(f"/api/environments/staging/deployments/{mine['id']}").status_code == 200


def test_a_namespace_token_reads_only_its_own_servers_in_the_environment_history(
    two_namespaces: httpx.Client, acme: httpx.Client
) -> None:
    everything = two_namespaces.get("/api/environments/staging/history").json()["events"]
    assert {e["server"] for e in everything} == {MINE, THEIRS}
    seen, cursor = [], None
    while True:  # page by page: every page is full of visible events, none of another namespace
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = acme.get("/api/environments/staging/history", params=params).json()
        seen += page["events"]
        cursor = page["metadata"]["nextCursor"]
        if cursor is None:
            break
    assert [(e["server"], e["version"]) for e in seen] == [(MINE, "1.0.0")]
    assert_problem(
        acme.get(f"/api/environments/staging/servers/{THEIRS}/history"), 403, "namespace_denied", "name"
    )
    assert acme.get(f"/api/environments/staging/servers/{MINE}/history").status_code == 200


def test_an_environment_limited_token_reads_no_other_environment(
    two_namespaces: httpx.Client, engine: sa.Engine, app_server: InProcess
) -> None:
    token = make_token(engine, "dev-only", ["deploy"], environments=["dev"])
    with app_server.client(token) as dev_only:
        for path in ("deployments", "history", f"servers/{MINE}/history"):
            assert_problem(dev_only.get(f"/api/environments/staging/{path}"), 403, "environment_denied")
        assert dev_only.get("/api/environments/dev/history").status_code == 200


def test_deployment_records_need_a_token(two_namespaces: httpx.Client, app_anon: httpx.Client) -> None:
    for path in ("deployments", "deployments/1", "history", f"servers/{MINE}/history"):
        assert_problem(app_anon.get(f"/api/environments/staging/{path}"), 401, "unauthenticated")


PUBLIC = (
    "/v0.1/servers",
    f"/v0.1/servers/{MINE}/versions",
    f"/v0.1/servers/{MINE}/versions/1.0.0",
    f"/v0/servers/{MINE}/versions/latest",
    "/v0.1/health",
    "/v0.1/ping",
    "/v0.1/version",
    f"/api/servers/{MINE}/versions/1.0.0",
    f"/api/servers/{MINE}/channels",
    f"/api/servers/{MINE}/resolve?range=^1.0.0",
    f"/api/servers/{MINE}/diff?from=1.0.0&to=1.1.0",
    f"/api/servers/{MINE}/deployments",
    "/api/environments",
    "/api/environments/staging",
    "/api/environments/staging/servers",
    f"/api/environments/staging/servers/{MINE}/rollout",
    "/environments/staging/v0.1/servers",
    f"/environments/staging/v0.1/servers/{MINE}/versions",
    f"/environments/staging/v0/servers/{MINE}/versions/latest",
    "/environments/staging/v0.1/health",
    "/api/changes?wait=0",
    "/api/whoami",
)
TOKEN_OVER_THE_SERVER = (
    f"/api/servers/{MINE}/versions",
    f"/api/servers/{MINE}/variables",
    f"/api/servers/{MINE}/secrets",
    f"/api/environments/staging/servers/{MINE}/history",
    f"/api/environments/staging/servers/{MINE}/resolve",
    f"/api/environments/staging/servers/{MINE}/config",
)
TOKEN_OVER_THE_ENVIRONMENT = ("/api/environments/staging/deployments", "/api/environments/staging/history")
ADMIN = ("/api/audit", "/api/tokens")


def test_every_read_answers_as_the_read_policy_says(
    two_namespaces: httpx.Client, app_anon: httpx.Client, acme: httpx.Client
) -> None:
    for path in PUBLIC:
        assert app_anon.get(path).status_code == 200, path
    for path in TOKEN_OVER_THE_SERVER + TOKEN_OVER_THE_ENVIRONMENT + ADMIN:
        assert_problem(app_anon.get(path), 401, "unauthenticated")
    for path in TOKEN_OVER_THE_SERVER + TOKEN_OVER_THE_ENVIRONMENT:
        assert acme.get(path).status_code == 200, path
    for path in TOKEN_OVER_THE_SERVER:
        assert_problem(acme.get(path.replace(MINE, THEIRS)), 403, "namespace_denied")
    for path in ADMIN:
        assert_problem(acme.get(path), 403, "permission_denied")
    assert two_namespaces.get("/api/audit").status_code == 200
