"""The configuration API: variables and secrets per scope, the effective config by scope of the
token, problem+json for bad input, and the key ring loaded when the app is created."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import make_token
from tests.support.documents import weather_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem

NAME = "io.github.acme/weather"
SERVER = f"/api/servers/{NAME}"
CONFIG = f"/api/environments/production/servers/{NAME}/config"


@pytest.fixture
def weather(app_api: httpx.Client) -> httpx.Client:
    for version in ("1.0.0", "2.0.0"):
        assert app_api.post("/v0.1/publish", json=weather_doc(version)).status_code == 200
    return app_api


def client(app_server: InProcess, token: str) -> httpx.Client:
    return app_server.client(token)


@pytest.fixture
def reader(app_server: InProcess, engine: sa.Engine) -> Iterator[httpx.Client]:
    with client(app_server, make_token(engine, "reader", ["read"])) as c:
        yield c


@pytest.fixture
def revealer(app_server: InProcess, engine: sa.Engine) -> Iterator[httpx.Client]:
    with client(app_server, make_token(engine, "oncall", ["secrets:read"])) as c:
        yield c


# -- variables ---------------------------------------------------------------------------


def test_a_variable_is_created_replaced_read_listed_and_deleted(weather: httpx.Client) -> None:
    created = weather.put(f"{SERVER}/variables/REGION", json={"value": "eu"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    replaced = weather.put(f"{SERVER}/variables/REGION", json={"value": "us"})
    assert replaced.status_code == 200
    assert (replaced.json()["value"], replaced.json()["revision"]) == ("us", 2)
    assert weather.get(f"{SERVER}/variables/REGION").json()["value"] == "us"
    weather.put(f"{SERVER}/variables/REGION", params={"version": "1.0.0"}, json={"value": "ap"})
    listed = weather.get(f"{SERVER}/variables").json()["variables"]
    assert [(v["scope"], v["version"], v["value"]) for v in listed] == [
        ("release", "1.0.0", "ap"),
        ("server", None, "us"),
    ]
    only_release = weather.get(f"{SERVER}/variables", params={"version": "1.0.0"}).json()["variables"]
    assert [v["value"] for v in only_release] == ["ap"]
    assert weather.delete(f"{SERVER}/variables/REGION", params={"version": "1.0.0"}).status_code == 204
    assert_problem(
        weather.get(f"{SERVER}/variables/REGION", params={"version": "1.0.0"}),
        404,
        "variable_not_found",
        "name",
    )


def test_the_effective_config_merges_environment_over_release_over_server(weather: httpx.Client) -> None:
    weather.put(f"{SERVER}/variables/REGION", json={"value": "server"})
    weather.put(f"{SERVER}/variables/REGION", params={"version": "1.0.0"}, json={"value": "release"})
    weather.put(
        f"{SERVER}/variables/REGION", params={"environment": "production"}, json={"value": "production"}
    )
    body = weather.get(CONFIG, params={"version": "1.0.0"}).json()
    assert body["variables"]["REGION"] == {"value": "production", "source": "environment"}
    assert body["variables"]["LOG_LEVEL"] == {"value": "info", "source": "default"}
    assert body["missing"] == ["API_KEY"]
    staging = weather.get(f"/api/environments/staging/servers/{NAME}/config", params={"version": "1.0.0"})
    assert staging.json()["variables"]["REGION"]["source"] == "release"
    other = weather.get(f"/api/environments/staging/servers/{NAME}/config", params={"version": "2.0.0"})
    assert other.json()["variables"]["REGION"]["source"] == "server"


# -- secrets -------------------------------------------------------------------------------


def test_secrets_are_write_only(weather: httpx.Client, reader: httpx.Client) -> None:
    plaintext = "sk-live-write-only-7q3z"
    put = weather.put(
        f"{SERVER}/secrets/API_KEY", params={"environment": "production"}, json={"value": plaintext}
    )
    assert put.status_code == 201
    assert plaintext not in put.text and "value" not in put.json()
    for response in (
        reader.get(f"{SERVER}/secrets"),
        reader.get(f"{SERVER}/secrets", params={"environment": "production"}),
        reader.get(f"{SERVER}/secrets/API_KEY", params={"environment": "production"}),
    ):
        assert response.status_code == 200, response.text
        assert plaintext not in response.text
        assert '"value"' not in response.text
    listed = reader.get(f"{SERVER}/secrets").json()["secrets"]
    assert listed[0]["keyId"] == "test1" and listed[0]["revision"] == 1
    assert listed[0]["createdBy"] == "admin-test" and listed[0]["environment"] == "production"


def test_config_is_masked_without_secrets_read_and_revealed_with_it(
    weather: httpx.Client, reader: httpx.Client, revealer: httpx.Client
) -> None:
    weather.put(f"{SERVER}/secrets/API_KEY", json={"value": "sk-reveal-me-91"})
    masked = reader.get(CONFIG, params={"version": "1.0.0", "reason": "looking"})
    assert masked.status_code == 200
    assert masked.json()["secrets"]["API_KEY"] == {"value": "********", "source": "server", "keyId": "test1"}
    assert "sk-reveal-me-91" not in masked.text
    revealed = revealer.get(CONFIG, params={"version": "1.0.0", "reason": "deploy debug"})
    assert revealed.status_code == 200
    assert revealed.json()["secrets"]["API_KEY"]["value"] == "sk-reveal-me-91"
    assert revealed.headers["cache-control"] == "no-store"
    opted_out = revealer.get(CONFIG, params={"version": "1.0.0", "reveal": "false"})
    assert opted_out.json()["secrets"]["API_KEY"]["value"] == "********"

    audit = weather.get("/api/audit", params={"action": "config.reveal"}).json()["entries"]
    assert len(audit) == 1
    assert (audit[0]["actor"], audit[0]["reason"], audit[0]["environment"], audit[0]["version"]) == (
        "oncall",
        "deploy debug",
        "production",
        "1.0.0",
    )
    assert "sk-reveal-me-91" not in str(weather.get("/api/audit").json())


def test_a_secrets_read_token_limited_to_other_environments_sees_masks(
    weather: httpx.Client, app_server: InProcess, engine: sa.Engine
) -> None:
    weather.put(f"{SERVER}/secrets/API_KEY", json={"value": "sk-staging-only"})
    with client(app_server, make_token(engine, "stg", ["secrets:read"], environments=["staging"])) as stg:
        assert stg.get(CONFIG, params={"version": "1.0.0"}).status_code == 403
        staging = stg.get(f"/api/environments/staging/servers/{NAME}/config", params={"version": "1.0.0"})
        assert staging.json()["secrets"]["API_KEY"]["value"] == "sk-staging-only"


def test_config_needs_a_token(weather: httpx.Client, app_anon: httpx.Client) -> None:
    assert_problem(app_anon.get(CONFIG, params={"version": "1.0.0"}), 401, "unauthenticated")
    assert_problem(app_anon.get(f"{SERVER}/variables"), 401, "unauthenticated")
    assert_problem(app_anon.put(f"{SERVER}/secrets/API_KEY", json={"value": "x"}), 401, "unauthenticated")


def test_a_read_token_cannot_change_configuration(weather: httpx.Client, reader: httpx.Client) -> None:
    assert_problem(reader.put(f"{SERVER}/variables/REGION", json={"value": "x"}), 403, "permission_denied")
    assert_problem(reader.put(f"{SERVER}/secrets/API_KEY", json={"value": "x"}), 403, "permission_denied")
    weather.put(f"{SERVER}/variables/REGION", json={"value": "x"})
    assert_problem(reader.delete(f"{SERVER}/variables/REGION"), 403, "permission_denied")


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "body", "status", "code", "field"),
    [
        ("variables/REGION", {}, {}, 422, "value_required", "value"),
        ("variables/REGION", {}, {"value": 3}, 422, "invalid_value", "value"),
        ("secrets/API_KEY", {}, {"value": None}, 422, "invalid_value", "value"),
        ("secrets/API_KEY", {}, {"value": ["a"]}, 422, "invalid_value", "value"),
        ("variables/1BAD", {}, {"value": "x"}, 422, "invalid_name", "name"),
        ("secrets/BAD-NAME", {}, {"value": "x"}, 422, "invalid_name", "name"),
        (
            "variables/REGION",
            {"environment": "Prod"},
            {"value": "x"},
            422,
            "invalid_environment",
            "environment",
        ),
        ("variables/REGION", {"version": "9.9.9"}, {"value": "x"}, 404, "version_not_found", "version"),
        ("variables/REGION", {"version": "not-semver"}, {"value": "x"}, 422, "invalid_version", "version"),
        (
            "variables/REGION",
            {"version": "1.0.0", "environment": "production"},
            {"value": "x"},
            422,
            "ambiguous_scope",
            "environment",
        ),
        ("variables/API_KEY", {}, {"value": "x"}, 422, "declared_secret", "name"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    weather: httpx.Client,
    path: str,
    params: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    assert_problem(weather.put(f"{SERVER}/{path}", params=params, json=body), status, code, field)


def test_a_body_that_is_not_a_json_object_is_refused(weather: httpx.Client) -> None:
    assert_problem(
        weather.put(
            f"{SERVER}/secrets/API_KEY", content=b"[1]", headers={"content-type": "application/json"}
        ),
        400,
        "invalid_body",
        "body",
    )
    assert_problem(
        weather.put(f"{SERVER}/secrets/API_KEY", content=b"value=x"), 415, "unsupported_media_type"
    )
    assert_problem(
        weather.put("/api/servers/io.github.acme/none/variables/A", json={"value": "x"}),
        404,
        "server_not_found",
    )


def test_the_config_endpoint_checks_environment_and_version(weather: httpx.Client) -> None:
    assert_problem(
        weather.get(f"/api/environments/Prod!/servers/{NAME}/config", params={"version": "1.0.0"}),
        422,
        "invalid_environment",
        "env",
    )
    assert_problem(weather.get(CONFIG), 404, "no_deployment", "environment")
    assert_problem(weather.get(CONFIG.replace("/production/", "/qa/")), 404, "environment_not_found")
    assert_problem(weather.get(CONFIG, params={"version": "3.0.0"}), 404, "version_not_found", "version")


def test_without_a_version_the_config_is_that_of_what_is_deployed(weather: httpx.Client) -> None:
    staging = f"/api/environments/staging/servers/{NAME}/config"
    assert_problem(weather.get(staging), 404, "no_deployment", "environment")
    weather.put(f"{SERVER}/variables/LOG_LEVEL", params={"version": "2.0.0"}, json={"value": "debug"})
    deployed = weather.post(
        "/api/environments/staging/deployments", json={"server": NAME, "version": "2.0.0"}
    )
    assert deployed.status_code in (200, 201), deployed.text
    config = weather.get(staging).json()
    assert config["version"] == "2.0.0"
    assert config["variables"]["LOG_LEVEL"] == {"value": "debug", "source": "release"}


# -- the key ring at start-up ------------------------------------------------------------------
