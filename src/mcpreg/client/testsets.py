"""The client's calls for test sets (``/api/servers/{namespace}/{server}/testsets``): a set put
whole, read, listed and removed; a run started, listed and read."""

from __future__ import annotations

from typing import Any

from mcpreg.client.calls import Call, nothing, same, seg, server_path


def _sets(name: str) -> str:
    return f"{server_path(name)}/testsets"


def _set(name: str, testset: str) -> str:
    return f"{_sets(name)}/{seg(testset)}"


def testsets(name: str) -> Call[list[dict[str, Any]]]:
    """Every test set of ``name``: its name, revision, description and number of cases."""
    return Call("GET", _sets(name), lambda body: list(body["testsets"]))


def testset(name: str, testset: str) -> Call[dict[str, Any]]:
    return Call("GET", _set(name, testset), same)


def put_testset(name: str, testset: str, document: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("PUT", _set(name, testset), same, body=document)


def delete_testset(name: str, testset: str) -> Call[None]:
    return Call("DELETE", _set(name, testset), nothing)


def run_testset(name: str, testset: str, environment: str, version: str | None) -> Call[dict[str, Any]]:
    body = {"environment": environment, **({"version": version} if version else {})}
    return Call("POST", f"{_set(name, testset)}/runs", same, body=body)


def testset_runs(name: str, testset: str, limit: int) -> Call[list[dict[str, Any]]]:
    return Call(
        "GET", f"{_set(name, testset)}/runs", lambda body: list(body["runs"]), params={"limit": str(limit)}
    )


def testset_run(name: str, testset: str, run_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"{_set(name, testset)}/runs/{int(run_id)}", same)
