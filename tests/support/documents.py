"""Shared server.json documents: the weather server that declares configuration.

``weather_doc`` is the one copy of the document the configuration and secret tests publish:
an npm package with environment variables (a required secret by default) and, where asked,
a streamable-http remote with headers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcpreg.domain.publish_rules import CURRENT_SCHEMA_URL

NAME = "io.github.acme/weather"

API_KEY: dict[str, Any] = {"name": "API_KEY", "isRequired": True, "isSecret": True}
REGION: dict[str, Any] = {"name": "REGION", "isRequired": True}
LOG_LEVEL: dict[str, Any] = {"name": "LOG_LEVEL", "default": "info"}
OPTIONAL_FLAG: dict[str, Any] = {"name": "OPTIONAL_FLAG"}
# The remote's header: required and secret, or secret only.
REMOTE_KEY: dict[str, Any] = {"name": "X-Api-Key", "isRequired": True, "isSecret": True}
OPTIONAL_REMOTE_KEY: dict[str, Any] = {"name": "X-Api-Key", "isSecret": True}


def weather_doc(
    version: str = "1.0.0",
    *,
    variables: Sequence[dict[str, Any]] = (API_KEY, REGION, LOG_LEVEL),
    headers: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The weather server at ``version``; ``headers`` adds a remote that declares them."""
    doc: dict[str, Any] = {
        "$schema": CURRENT_SCHEMA_URL,
        "name": NAME,
        "description": "Weather forecasts",
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@acme/weather-mcp",
                "version": version,
                "transport": {"type": "stdio"},
                "environmentVariables": [dict(v) for v in variables],
            }
        ],
    }
    if headers is not None:
        doc["remotes"] = [
            {
                "type": "streamable-http",
                "url": "https://weather.example.com/mcp",
                "headers": [dict(h) for h in headers],
            }
        ]
    return doc
