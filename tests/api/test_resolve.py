"""resolve from its routing snapshot: the same answers as from the database, never stale, never secret."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from mcpreg.api.resolve import client_parameter
from mcpreg.api.runtime import runtime
from tests.conftest import make_token, publish, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem

NAME = "io.github.acme/weather"
TARGET = f"/api/environments/production/servers/{NAME}"
DEPLOY = "/api/environments/production/deployments"


def released(app_api: httpx.Client, *versions: str) -> None:
    for version in versions:
        publish(app_api, server_doc(version=version))


def deploy(app_api: httpx.Client, version: str, **body: object) -> None:
    response = app_api.post(DEPLOY, json={"server": NAME, "version": version, **body})
    assert response.status_code == 201, response.text


def resolved(app_api: httpx.Client, client: str = "c-1") -> dict[str, object]:
    response = app_api.get(f"{TARGET}/resolve", params={"client": client})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_rollback_is_resolved_at_once(app_api: httpx.Client) -> None:
    released(app_api, "1.0.0", "1.1.0")
    deploy(app_api, "1.0.0")
    deploy(app_api, "1.1.0")
    assert resolved(app_api)["version"] == "1.1.0"
    assert resolved(app_api)["version"] == "1.1.0"  # now from the snapshot
    assert app_api.post(f"{TARGET}/rollback", json={}).status_code == 200
    assert resolved(app_api)["version"] == "1.0.0"


def test_every_client_gets_the_same_track_from_the_snapshot_as_from_the_database(
    app_api: httpx.Client, app_server: InProcess
) -> None:
    released(app_api, "1.0.0", "1.1.0")
    deploy(app_api, "1.0.0")
    deploy(app_api, "1.1.0", strategy="canary", weight=30)
    clients = [f"client-{i}" for i in range(60)]
    targets = runtime(app_server.app).targets
    first = {}
    for client in clients:
        targets.clear()  # every answer below is worked out from the database
        first[client] = app_api.get(f"{TARGET}/resolve", params={"client": client}).content
    again = {c: app_api.get(f"{TARGET}/resolve", params={"client": c}).content for c in clients}
    assert again == first
    tracks = {resolved(app_api, c)["track"] for c in clients}
    assert tracks == {"stable", "canary"}


def test_a_configuration_change_is_resolved_at_once_and_secrets_stay_masked(app_api: httpx.Client) -> None:
    released(app_api, "1.0.0")
    deploy(app_api, "1.0.0")
    assert resolved(app_api)["config"]["variables"] == {}  # type: ignore[index]
    variable = app_api.put(f"/api/servers/{NAME}/variables/LOG_LEVEL", json={"value": "debug"})
    assert variable.status_code in (200, 201), variable.text
    secret = app_api.put(f"/api/servers/{NAME}/secrets/API_KEY", json={"value": "s3cr3t-value"})
    assert secret.status_code in (200, 201), secret.text
    answer = app_api.get(f"{TARGET}/resolve", params={"client": "c-1"})
    assert answer.json()["config"]["variables"]["LOG_LEVEL"]["value"] == "debug"
    assert answer.json()["config"]["secrets"]["API_KEY"]["value"] == "********"
    assert b"s3cr3t-value" not in answer.content


def test_a_revoked_token_is_refused_at_once(
    app_api: httpx.Client, engine: sa.Engine, app_server: InProcess
) -> None:
    released(app_api, "1.0.0")
    deploy(app_api, "1.0.0")
    reader = make_token(engine, "reader", ["read"])
    with app_server.client(reader) as client:
        assert resolved(client)["version"] == "1.0.0"
        assert resolved(client)["version"] == "1.0.0"  # the token is remembered now
        assert app_api.delete("/api/tokens/reader").status_code in (200, 204)
        assert_problem(client.get(f"{TARGET}/resolve"), 401, "unauthenticated")


def test_a_token_outside_its_environments_is_refused_even_when_the_target_is_remembered(
    app_api: httpx.Client, engine: sa.Engine, app_server: InProcess
) -> None:
    released(app_api, "1.0.0")
    deploy(app_api, "1.0.0")
    resolved(app_api)  # the snapshot is in memory
    staging_only = make_token(engine, "staging-reader", ["read"], environments=["staging"])
    with app_server.client(staging_only) as client:
        client.get(f"/api/environments/staging/servers/{NAME}/resolve")  # remembered token
        assert_problem(client.get(f"{TARGET}/resolve"), 403, "environment_denied")


@given(st.lists(st.tuples(st.sampled_from(["client", "x", "cl"]), st.text(max_size=6)), max_size=4))
def test_the_client_parameter_is_read_at_the_door_as_starlette_reads_it(pairs: list[tuple[str, str]]) -> None:
    query = urlencode(pairs).encode()
    assert client_parameter(query) == QueryParams(query).get("client")
    raw = "&".join(f"{k}={v}" for k, v in pairs if "&" not in v and "%" not in v).encode("utf-8")
    assert client_parameter(raw) == QueryParams(raw).get("client")
