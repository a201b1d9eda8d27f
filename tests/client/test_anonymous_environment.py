"""Anonymous clients discover what runs in an environment as far as the public env views allow."""

from __future__ import annotations

import asyncio

import pytest

from mcpreg.client import AsyncRegistry, NoDeployment, NotFound, Registry
from tests.conftest import server_doc
from tests.support.live import LiveServer

NAME = "io.github.acme/weather"


@pytest.fixture
def published(live: LiveServer, admin_token: str) -> str:
    with Registry(live.url, token=admin_token, cache_ttl=0) as admin:
        admin.publish(server_doc(version="1.0.0"))
        admin.deploy(NAME, "1.0.0", "staging")
    return live.url


def test_an_anonymous_client_reads_the_stable_release_of_an_environment(published: str) -> None:
    with Registry(published, cache_ttl=0) as anonymous:
        release = anonymous.get_server(NAME, environment="staging", client_id="billing-svc-7")
    assert (release.version, release.track) == ("1.0.0", "stable")


def test_nothing_deployed_is_no_deployment_for_an_anonymous_client(published: str) -> None:
    with Registry(published, cache_ttl=0) as anonymous, pytest.raises(NoDeployment) as caught:
        anonymous.get_server(NAME, environment="production")
    assert (caught.value.code, caught.value.status) == ("no_deployment", 404)


def test_an_unknown_server_or_environment_is_not_found_for_an_anonymous_client(published: str) -> None:
    with Registry(published, cache_ttl=0) as anonymous:
        with pytest.raises(NotFound) as server:
            anonymous.get_server("io.github.nobody/nothing", environment="production")
        with pytest.raises(NotFound) as environment:
            anonymous.get_server(NAME, environment="nowhere")
    assert not isinstance(server.value, NoDeployment) and server.value.code == "server_not_found"
    assert not isinstance(environment.value, NoDeployment)
    assert environment.value.code == "environment_not_found"


def test_an_anonymous_async_client_gets_no_deployment_too(published: str) -> None:
    async def ask() -> None:
        async with AsyncRegistry(published, cache_ttl=0) as anonymous:
            await anonymous.get_server(NAME, environment="production")

    with pytest.raises(NoDeployment) as caught:
        asyncio.run(ask())
    assert caught.value.code == "no_deployment"
