"""The client's calls for alerts (``/api/environments/{env}/alerts`` and ``.../alert-firings``):
a rule put whole (its secret given, never read back), read, listed and removed; firings listed."""

from __future__ import annotations

from typing import Any

from mcpreg.client.calls import Call, env_path, nothing, same, seg


def _rules(environment: str) -> str:
    return f"{env_path(environment)}/alerts"


def alert_rules(environment: str) -> Call[list[dict[str, Any]]]:
    return Call("GET", _rules(environment), lambda body: list(body["rules"]))


def alert_rule(environment: str, name: str) -> Call[dict[str, Any]]:
    return Call("GET", f"{_rules(environment)}/{seg(name)}", same)


def set_alert_rule(environment: str, name: str, rule: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("PUT", f"{_rules(environment)}/{seg(name)}", same, body=rule)


def delete_alert_rule(environment: str, name: str) -> Call[None]:
    return Call("DELETE", f"{_rules(environment)}/{seg(name)}", nothing)


def alert_firings(environment: str, rule: str | None, limit: int) -> Call[list[dict[str, Any]]]:
    params = {"limit": str(limit), **({"rule": rule} if rule else {})}
    return Call(
        "GET", f"{env_path(environment)}/alert-firings", lambda body: list(body["firings"]), params=params
    )
