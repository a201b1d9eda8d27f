"""A small catalogue for the console tests: two namespaces, releases, a draft, a deployment."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from mcpreg.crypto import KeyRing, SecretValue
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import releases
from mcpreg.services.configuration import values
from mcpreg.services.deploy import deployments
from tests.conftest import server_doc

WEATHER = "io.github.acme/weather"
OTHER = "io.github.other/tides"


def weather(version: str, **extra: Any) -> dict[str, Any]:
    return server_doc(WEATHER, version, **extra)


def build(engine: sa.Engine, keyring: KeyRing) -> None:
    """acme/weather 1.0.0, 1.1.0 (new remote and env var), 2.0.0-rc.1 and a draft 2.0.0;
    other/tides 0.1.0; 1.0.0 runs in production; a variable and a secret of weather."""
    with unit_of_work(engine, write=True) as s:
        releases.create_release(s, SYSTEM, weather("1.0.0"))
        newer = weather("1.1.0", description="Weather forecasts, hourly")
        newer["packages"][0]["environmentVariables"] = [{"name": "API_KEY", "isSecret": True}]
        newer["remotes"] = [{"type": "streamable-http", "url": "https://weather.example.com/mcp"}]
        releases.create_release(s, SYSTEM, newer)
        releases.create_release(s, SYSTEM, weather("2.0.0-rc.1", websiteUrl="https://weather.example.com"))
        releases.create_release(s, SYSTEM, weather("2.0.0"), draft=True)
        releases.create_release(s, SYSTEM, server_doc(OTHER, "0.1.0"))
    with unit_of_work(engine, write=True) as s:
        deployments.deploy(s, SYSTEM, "production", parse_deploy({"server": WEATHER, "version": "1.0.0"}))
        values.set_variable(s, SYSTEM, WEATHER, "LOG_LEVEL", "info")
        values.set_secret(s, keyring, SYSTEM, WEATHER, "API_KEY", SecretValue("s3cr3t-value"))
