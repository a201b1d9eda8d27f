"""The gateway never logs an upstream's URL (it is filled from configuration, secrets included)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.support.gateway_clients import deploy, gateway_url, release, whoami_version
from tests.support.live import LiveServer
from tests.support.upstreams import Upstream, upstreams


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Upstream]]:
    with upstreams("1.0.0") as started:
        yield started


def test_a_proxied_request_logs_no_upstream_url_at_any_level(
    api: httpx.Client, live: LiveServer, running: dict[str, Upstream], caplog: pytest.LogCaptureFixture
) -> None:
    release(api, running, "1.0.0")
    deploy(api, "1.0.0")
    with caplog.at_level(logging.DEBUG):
        assert whoami_version(api, gateway_url(live), "someone") == "1.0.0"
    upstream = running["1.0.0"].url
    assert not [r for r in caplog.records if upstream in r.getMessage()]
