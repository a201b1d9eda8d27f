"""Both clients offer the same methods, written once: the same parameters, blocking or awaited."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import httpx
import pytest

from mcpreg.client import AsyncRegistry, Registry

# The parameters every public method had before the two clients shared one description of them.
METHODS = {
    "add_upstream": "(name, url, *, namespaces=None, exclude=None, interval=None, token=None)",
    "alert_firings": "(environment, *, rule=None, limit=50)",
    "alert_rule": "(environment, name)",
    "alert_rules": "(environment)",
    "analysis": "(name, environment)",
    "approve": "(environment, deployment_id)",
    "change_upstream": "(name, changes)",
    "channels": "(name)",
    "config": "(name, environment, *, version=None, reveal=False, reason=None)",
    "create_environment": "(name, **fields)",
    "curate": "(pattern, effect, *, upstream=None, force=False)",
    "curation": "()",
    "delete_channel": "(name, channel)",
    "delete_gate": "(environment, name)",
    "delete_alert_rule": "(environment, name)",
    "delete_rate_limit": "(environment, name=None)",
    "delete_testset": "(name, testset)",
    "delete_secret": "(name, secret, *, version=None, environment=None)",
    "delete_variable": "(name, variable, *, version=None, environment=None)",
    "deploy": "(name, version, environment, *, strategy='immediate', weight=None, steps=None, "
    "scheduled_at=None, notes=None, analysis=None, gates=None)",
    "deployments": "(environment, **params)",
    "diff": "(name, old, new)",
    "duplicate": "(name, version, new_version)",
    "environments": "()",
    "forget_rule": "(pattern, *, upstream=None, force=False)",
    "gate": "(environment, name)",
    "gate_runs": "(name, environment)",
    "gates": "(environment)",
    "get_server": "(name, version=None, channel=None, range=None, environment=None, client_id=None, "
    "*, prerelease=False)",
    "health": "(name, environment)",
    "history": "(name, environment)",
    "list_servers": "(*, search=None, updated_since=None, version=None, include_deleted=False, "
    "page_size=100)",
    "pin": "(name, version)",
    "promote": "(name, version, source, target=None, *, force=False, strategy='immediate', weight=None, "
    "steps=None, notes=None)",
    "publish": "(document, *, draft=False)",
    "publish_draft": "(name, version)",
    "put_testset": "(name, testset, document)",
    "rate_limit": "(environment, name=None)",
    "set_gate": "(environment, name, gate)",
    "rate_limits": "(environment)",
    "remove_upstream": "(name)",
    "resolve": "(name, environment, client_id=None)",
    "rollback": "(name, environment, *, version=None, notes=None)",
    "run_testset": "(name, testset, environment, *, version=None)",
    "rollout": "(name, environment)",
    "rollout_abort": "(name, environment)",
    "rollout_pause": "(name, environment)",
    "rollout_promote": "(name, environment, *, full=False)",
    "rollout_resume": "(name, environment)",
    "secrets": "(name, *, version=None, environment=None)",
    "set_alert_rule": "(environment, name, rule)",
    "set_channel": "(name, channel, version)",
    "set_local": "(namespace, local=True)",
    "set_rate_limit": "(environment, name=None, **limits)",
    "set_secret": "(name, secret, value, *, version=None, environment=None)",
    "set_status": "(name, version, status, message=None, *, force=False)",
    "set_variable": "(name, variable, value, *, version=None, environment=None)",
    "sync_runs": "(name, *, limit=20, refused=False)",
    "sync_upstream": "(name, *, full=False)",
    "testset": "(name, testset)",
    "testset_run": "(name, testset, run_id)",
    "testset_runs": "(name, testset, *, limit=20)",
    "testsets": "(name)",
    "traffic": "(name, environment, window=None)",
    "unpin": "(name)",
    "update_draft": "(name, version, document)",
    "update_environment": "(name, **fields)",
    "upstream": "(name)",
    "upstreams": "()",
    "variables": "(name, *, version=None, environment=None)",
    "versions": "(name)",
    "where": "(name)",
    "whoami": "()",
}


def _parameters(method: Any) -> str:
    signature = inspect.signature(method)
    plain = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=plain, return_annotation=inspect.Signature.empty))


def _public(registry: object) -> set[str]:
    plumbing = {"call", "clear_cache", "close", "aclose"}
    return {
        name
        for name in dir(registry)
        if not name.startswith("_") and name not in plumbing and callable(getattr(registry, name))
    }


def test_the_sync_client_keeps_every_method_and_its_parameters() -> None:
    with Registry() as registry:
        assert _public(registry) == set(METHODS)
        assert {name: _parameters(getattr(registry, name)) for name in METHODS} == METHODS
        assert inspect.isgeneratorfunction(registry.list_servers)


def test_the_async_client_has_the_same_methods_and_each_is_awaited() -> None:
    registry = AsyncRegistry()
    assert _public(registry) == set(METHODS)
    assert {name: _parameters(getattr(registry, name)) for name in METHODS} == METHODS
    for name in METHODS:
        method = getattr(registry, name)
        if name == "list_servers":
            assert inspect.isasyncgenfunction(method)
        else:
            assert inspect.iscoroutinefunction(method), name
    asyncio.run(registry.aclose())


def test_each_method_has_the_same_docstring_in_both_clients() -> None:
    blocking, awaited = Registry(), AsyncRegistry()
    for name in ("get_server", "versions", "set_status", "deploy", "config"):
        assert getattr(Registry, name).__doc__
        assert getattr(blocking, name).__doc__ == getattr(awaited, name).__doc__
    blocking.close()
    asyncio.run(awaited.aclose())


def test_a_bad_argument_refuses_in_the_async_client_only_when_awaited() -> None:
    registry = AsyncRegistry(
        "http://registry.test", transport=httpx.MockTransport(lambda request: httpx.Response(500))
    )
    pending = registry.get_server("io.github.acme/weather", version="1.0.0", channel="stable")
    with pytest.raises(ValueError):
        asyncio.run(pending)
    asyncio.run(registry.aclose())


def test_both_clients_take_every_method_from_the_one_description_of_it() -> None:
    for client in (Registry, AsyncRegistry):
        written_again = set(vars(client)) & set(METHODS)
        assert not written_again, f"{client.__name__} writes {sorted(written_again)} again"
