"""The official API as one environment sees it: only what is deployed there, and
``latest`` routed by ``X-Client-Id``; a mirrored release names its source there as in the
root listing."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import publish, server_doc
from tests.support.curation import declare, run_sync
from tests.support.problems import assert_problem
from tests.support.upstream_registry import BASE, FakeUpstream

NAME = "io.github.acme/weather"
OTHER = "io.github.acme/tides"
OFFICIAL = "io.modelcontextprotocol.registry/official"
MCPREG = "dev.mcpreg/release"
PROD = "/environments/production/v0.1"
VERSIONS = f"{PROD}/servers/io.github.acme%2Fweather/versions"


def deploy(app_api: httpx.Client, env: str, version: str, name: str = NAME, **body: object) -> None:
    response = app_api.post(
        f"/api/environments/{env}/deployments", json={"server": name, "version": version, **body}
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def deployed(app_api: httpx.Client) -> httpx.Client:
    for version in ("1.0.0", "1.1.0"):
        publish(app_api, server_doc(version=version))
    publish(app_api, server_doc(name=OTHER, version="0.1.0"))
    deploy(app_api, "production", "1.0.0")
    deploy(app_api, "dev", "1.1.0")
    return app_api


def versions_of(body: dict[str, object]) -> list[tuple[str, str]]:
    return [(s["server"]["name"], s["server"]["version"]) for s in body["servers"]]  # type: ignore[attr-defined, index]


def test_an_environment_view_lists_only_what_is_deployed_there(
    deployed: httpx.Client, app_anon: httpx.Client
) -> None:
    production = app_anon.get(f"{PROD}/servers").json()
    assert versions_of(production) == [(NAME, "1.0.0")]
    assert production["servers"][0]["_meta"][OFFICIAL]["isLatest"] is True
    assert versions_of(app_anon.get("/environments/dev/v0/servers").json()) == [(NAME, "1.1.0")]
    assert app_anon.get("/environments/staging/v0.1/servers").json()["servers"] == []
    assert versions_of(app_anon.get("/v0.1/servers").json()) == [
        (OTHER, "0.1.0"),
        (NAME, "1.1.0"),
        (NAME, "1.0.0"),
    ]
    assert app_anon.get(f"{VERSIONS}/latest").json()["server"]["version"] == "1.0.0"
    assert_problem(app_anon.get(f"{VERSIONS}/1.1.0"), 404, "version_not_found")
    assert_problem(
        app_anon.get(f"{PROD}/servers/io.github.acme%2Ftides/versions/latest"), 404, "no_deployment"
    )
    assert_problem(app_anon.get("/environments/moon/v0.1/servers"), 404, "environment_not_found")
    assert app_anon.post(f"{PROD}/publish", json=server_doc(version="9.0.0")).status_code in (404, 405)


def test_latest_is_the_version_routed_to_the_callers_client_id(
    deployed: httpx.Client, app_anon: httpx.Client
) -> None:
    deploy(deployed, "production", "1.1.0", strategy="canary", weight=50)
    resolve = "/api/environments/production/servers/io.github.acme/weather/resolve"
    tracks = {c: deployed.get(resolve, params={"client": c}).json()["track"] for c in map(str, range(40))}
    canary = next(c for c, t in tracks.items() if t == "canary")
    stable = next(c for c, t in tracks.items() if t == "stable")
    for client, version in ((canary, "1.1.0"), (stable, "1.0.0")):
        for _ in range(2):  # the second read comes from the cache, keyed by client id
            got = app_anon.get(f"{VERSIONS}/latest", headers={"X-Client-Id": client}).json()
            assert got["server"]["version"] == version
            assert got["_meta"]["dev.mcpreg/deployment"]["track"] == tracks[client]
    assert app_anon.get(f"{VERSIONS}/latest").json()["server"]["version"] == "1.0.0"
    listed = app_anon.get(VERSIONS, headers={"X-Client-Id": canary}).json()["servers"]
    assert [(s["server"]["version"], s["_meta"][OFFICIAL]["isLatest"]) for s in listed] == [
        ("1.1.0", True),
        ("1.0.0", False),
    ]
    assert app_anon.get(f"{VERSIONS}/1.1.0").status_code == 200
    listing = app_anon.get(f"{PROD}/servers", headers={"X-Client-Id": canary}).json()
    assert versions_of(listing) == [(NAME, "1.1.0")]


def test_a_rollback_is_served_at_once_despite_the_cache(
    deployed: httpx.Client, app_anon: httpx.Client
) -> None:
    deploy(deployed, "production", "1.1.0")
    assert app_anon.get(f"{VERSIONS}/latest").json()["server"]["version"] == "1.1.0"
    rollback = deployed.post("/api/environments/production/servers/io.github.acme/weather/rollback")
    assert rollback.status_code == 200, rollback.text
    assert app_anon.get(f"{VERSIONS}/latest").json()["server"]["version"] == "1.0.0"


def test_listing_pages_and_searches_within_the_environment(
    deployed: httpx.Client, app_anon: httpx.Client
) -> None:
    deploy(deployed, "production", "0.1.0", name=OTHER)
    first = app_anon.get(f"{PROD}/servers", params={"limit": 1}).json()
    assert versions_of(first) == [(OTHER, "0.1.0")]
    second = app_anon.get(
        f"{PROD}/servers", params={"limit": 1, "cursor": first["metadata"]["nextCursor"]}
    ).json()
    assert versions_of(second) == [(NAME, "1.0.0")] and "nextCursor" not in second["metadata"]
    assert versions_of(app_anon.get(f"{PROD}/servers", params={"search": "TIDES"}).json()) == [
        (OTHER, "0.1.0")
    ]


def test_a_mirrored_release_deployed_to_an_environment_names_its_source_there(
    engine: sa.Engine, app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    fake = FakeUpstream()
    for version in ("1.0.0", "1.1.0"):
        fake.add(server_doc(version=version))
    declare(engine)
    run_sync(engine, fake)
    deploy(app_api, "production", "1.0.0")
    deploy(app_api, "production", "1.1.0", strategy="canary", weight=50)
    root = app_anon.get("/v0.1/servers/io.github.acme%2Fweather/versions").json()["servers"]
    sources = {s["server"]["version"]: s["_meta"][MCPREG]["source"] for s in root}
    assert sources["1.0.0"]["upstream"] == "public" and sources["1.0.0"]["url"].startswith(BASE)
    listed = app_anon.get(f"{PROD}/servers").json()["servers"]
    assert [s["_meta"][MCPREG]["source"] for s in listed] == [sources["1.0.0"]]
    versions = app_anon.get(VERSIONS).json()["servers"]
    assert {s["server"]["version"]: s["_meta"][MCPREG]["source"] for s in versions} == sources
    for version in ("1.1.0", "latest"):
        detail = app_anon.get(f"{VERSIONS}/{version}").json()
        assert detail["_meta"][MCPREG]["source"] == sources[detail["server"]["version"]]


def test_a_local_release_in_an_environment_view_carries_no_source(
    deployed: httpx.Client, app_anon: httpx.Client
) -> None:
    for body in (
        app_anon.get(f"{PROD}/servers").json()["servers"][0],
        app_anon.get(f"{VERSIONS}/latest").json(),
    ):
        assert MCPREG not in body["_meta"]
