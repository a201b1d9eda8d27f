"""The client's calls for promotion gates (``/api/environments/{env}/gates`` and a target's
``.../gates``): a gate put whole (a webhook's secret given, never read back), read, listed
and removed; a target's gate runs and what it waits on."""

from __future__ import annotations

from typing import Any

from mcpreg.client.calls import Call, env_path, nothing, same, seg, target_path


def _gates(environment: str) -> str:
    return f"{env_path(environment)}/gates"


def gates(environment: str) -> Call[list[dict[str, Any]]]:
    return Call("GET", _gates(environment), lambda body: list(body["gates"]))


def gate(environment: str, name: str) -> Call[dict[str, Any]]:
    return Call("GET", f"{_gates(environment)}/{seg(name)}", same)


def set_gate(environment: str, name: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("PUT", f"{_gates(environment)}/{seg(name)}", same, body=body)


def delete_gate(environment: str, name: str) -> Call[None]:
    return Call("DELETE", f"{_gates(environment)}/{seg(name)}", nothing)


def gate_runs(environment: str, server: str) -> Call[dict[str, Any]]:
    return Call("GET", f"{target_path(environment, server)}/gates", same)
