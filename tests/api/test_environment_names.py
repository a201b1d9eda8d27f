"""One environment-name rule: a legal environment of any legal length deploys, resolves and
has configuration (the config API once allowed 32 characters where environments allow 63)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import publish, server_doc
from tests.support.problems import assert_problem

NAME = "io.github.acme/weather"


@pytest.mark.parametrize("length", [40, 63])
def test_a_long_environment_deploys_resolves_and_has_configuration(
    app_api: httpx.Client, length: int
) -> None:
    env = "e" + "-x" * ((length - 1) // 2) + "9" * ((length - 1) % 2)
    assert len(env) == length
    publish(app_api, server_doc(version="1.0.0"))
    assert app_api.post("/api/environments", json={"name": env}).status_code == 201
    deployed = app_api.post(f"/api/environments/{env}/deployments", json={"server": NAME, "version": "1.0.0"})
    assert deployed.status_code == 201, deployed.text
    put = app_api.put(
        f"/api/servers/{NAME}/variables/REGION", params={"environment": env}, json={"value": "eu"}
    )
    assert put.status_code == 201, put.text
    target = f"/api/environments/{env}/servers/{NAME}"
    resolved = app_api.get(f"{target}/resolve", params={"client": "c-1"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["version"] == "1.0.0"
    assert resolved.json()["config"]["variables"]["REGION"] == {"value": "eu", "source": "environment"}
    config = app_api.get(f"{target}/config")
    assert config.status_code == 200, config.text
    assert config.json()["variables"]["REGION"]["source"] == "environment"
    listed = app_api.get(f"/api/servers/{NAME}/variables", params={"environment": env}).json()["variables"]
    assert [(v["name"], v["environment"]) for v in listed] == [("REGION", env)]


def test_an_environment_name_over_63_characters_is_refused_everywhere_by_the_same_rule(
    app_api: httpx.Client,
) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    long = "e" * 64
    assert_problem(
        app_api.post("/api/environments", json={"name": long}), 422, "invalid_environment_name", "name"
    )
    assert_problem(
        app_api.put(
            f"/api/servers/{NAME}/variables/REGION", params={"environment": long}, json={"value": "x"}
        ),
        422,
        "invalid_environment",
        "environment",
    )
    assert_problem(
        app_api.get(f"/api/environments/{long}/servers/{NAME}/config", params={"version": "1.0.0"}),
        422,
        "invalid_environment",
        "env",
    )
