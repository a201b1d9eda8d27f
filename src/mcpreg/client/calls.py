"""Every request the client makes, described once as a ``Call`` for both transports.

A ``Call`` is a method, a path, parameters, a body and a ``parse`` that turns the JSON
answer into what the caller gets. ``Registry`` and ``AsyncRegistry`` only send calls;
which URL answers what lives here, so the two clients cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode

from mcpreg.client.errors import InvalidServerName
from mcpreg.client.models import Release

T = TypeVar("T")
JSON = Any


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and how to read its answer; ``cacheable`` reads go through the cache."""

    method: str
    path: str
    parse: Callable[[JSON], T]
    params: dict[str, str] = field(default_factory=dict)
    body: JSON = None
    headers: dict[str, str] = field(default_factory=dict)
    cacheable: bool = False

    @property
    def key(self) -> str:
        """What identifies the answer: the URL and the headers the registry varies on."""
        query = urlencode(sorted(self.params.items()))
        client = self.headers.get("X-Client-Id", "")
        return f"{self.method} {self.path}?{query}#{client}"


@dataclass(frozen=True)
class Pages(Generic[T]):
    """A listing that follows a cursor: ``page(cursor)`` is the call for one page (``None``:
    the first), ``read`` its entries and the next cursor (``None`` after the last page)."""

    page: Callable[[str | None], Call[JSON]]
    read: Callable[[JSON], tuple[list[T], str | None]]


def seg(value: str) -> str:
    """One path segment, with '/', '+' and friends escaped."""
    return quote(value, safe="")


def server_path(name: str, prefix: str = "/api") -> str:
    """``/api/servers/{namespace}/{server}``; a name holds exactly one slash."""
    namespace, slash, rest = name.partition("/")
    if not slash or not namespace or not rest:
        raise InvalidServerName(f"a server name looks like 'io.github.owner/server', not {name!r}")
    return f"{prefix}/servers/{seg(namespace)}/{seg(rest)}"


def official_path(name: str) -> str:
    return server_path(name, "/v0.1")


def _release(body: JSON) -> Release:
    return Release.from_body(body)


def _releases(body: JSON) -> list[Release]:
    items = body.get("versions") or body.get("servers") or []
    return [Release.from_body(item) for item in items]


def same(body: JSON) -> JSON:
    return body


def nothing(_body: JSON) -> None:
    return None


def _read(path: str, parse: Callable[[JSON], T], params: dict[str, str] | None = None) -> Call[T]:
    return Call("GET", path, parse, params=params or {}, cacheable=True)


def _flag(value: bool) -> str:
    return "true" if value else "false"


# -- discovery -------------------------------------------------------------------------------------


def get_release(name: str, ref: str = "latest") -> Call[Release]:
    """A release by exact version, ``latest`` or a channel (drafts for covering tokens)."""
    return _read(f"{server_path(name)}/versions/{seg(ref)}", _release)


def resolve_range(name: str, range_: str, prerelease: bool = False) -> Call[Release]:
    params = {"range": range_}
    if prerelease:
        params["prerelease"] = "true"
    return _read(f"{server_path(name)}/resolve", _release, params)


def list_page(
    cursor: str | None,
    *,
    limit: int = 100,
    search: str | None = None,
    updated_since: str | None = None,
    version: str | None = None,
    include_deleted: bool = False,
) -> Call[JSON]:
    params = {"limit": str(limit)}
    for key, value in (
        ("cursor", cursor),
        ("search", search),
        ("updated_since", updated_since),
        ("version", version),
    ):
        if value:
            params[key] = value
    if include_deleted:
        params["include_deleted"] = "true"
    return _read("/v0.1/servers", same, params)


def _server_page(body: JSON) -> tuple[list[Release], str | None]:
    releases = [Release.from_body(item) for item in body.get("servers", [])]
    return releases, body.get("metadata", {}).get("nextCursor") or None


def server_pages(
    limit: int, search: str | None, updated_since: str | None, version: str | None, include_deleted: bool
) -> Pages[Release]:
    """Every matching release, ``limit`` a page."""

    def page(cursor: str | None) -> Call[JSON]:
        return list_page(
            cursor,
            limit=limit,
            search=search,
            updated_since=updated_since,
            version=version,
            include_deleted=include_deleted,
        )

    return Pages(page, _server_page)


def versions(name: str, *, everything: bool) -> Call[list[Release]]:
    """Every version; ``everything`` (needs a read token) includes drafts and deleted ones."""
    if everything:
        return _read(f"{server_path(name)}/versions", _releases)
    return _read(f"{official_path(name)}/versions", _releases)


def channels(name: str) -> Call[list[dict[str, Any]]]:
    return _read(f"{server_path(name)}/channels", lambda body: list(body["channels"]))


def diff(name: str, old: str, new: str) -> Call[dict[str, Any]]:
    return _read(f"{server_path(name)}/diff", same, {"from": old, "to": new})


def whoami() -> Call[dict[str, Any]]:
    return Call("GET", "/api/whoami", same)


# -- publishing ------------------------------------------------------------------------------------


def publish(document: dict[str, Any]) -> Call[Release]:
    return Call("POST", "/v0.1/publish", _release, body=document)


def create_draft(document: dict[str, Any]) -> Call[Release]:
    name = str(document.get("name", ""))
    return Call("POST", f"{server_path(name)}/drafts", _release, body=document)


def update_draft(name: str, version: str, document: dict[str, Any]) -> Call[Release]:
    return Call("PUT", f"{server_path(name)}/versions/{seg(version)}", _release, body=document)


def publish_draft(name: str, version: str) -> Call[Release]:
    return Call("POST", f"{server_path(name)}/versions/{seg(version)}/publish", _release)


def duplicate(name: str, version: str, new_version: str) -> Call[Release]:
    path = f"{server_path(name)}/versions/{seg(version)}/duplicate"
    return Call("POST", path, _release, body={"version": new_version})


def set_status(
    name: str, version: str, status: str, message: str | None = None, *, force: bool = False
) -> Call[Release]:
    body: dict[str, Any] = {"status": status}
    if message:
        body["statusMessage"] = message
    if force:
        body["force"] = True
    return Call("PATCH", f"{official_path(name)}/versions/{seg(version)}/status", _release, body=body)


def set_channel(name: str, channel: str, version: str) -> Call[dict[str, Any]]:
    path = f"{server_path(name)}/channels/{seg(channel)}"
    return Call("PUT", path, same, body={"version": version})


def delete_channel(name: str, channel: str) -> Call[None]:
    return Call("DELETE", f"{server_path(name)}/channels/{seg(channel)}", nothing)


# -- curation of mirrored servers (admin) ---------------------------------------------------------


def curation() -> Call[dict[str, Any]]:
    return Call("GET", "/api/curation", same)


def set_rule(pattern: str, effect: str, upstream: str | None, force: bool) -> Call[dict[str, Any]]:
    body: dict[str, Any] = {"pattern": pattern, "effect": effect}
    if upstream:
        body["upstream"] = upstream
    if force:
        body["force"] = True
    return Call("POST", "/api/curation/rules", same, body=body)


def remove_rule(pattern: str, upstream: str | None, force: bool) -> Call[dict[str, Any]]:
    params = {"pattern": pattern, **({"upstream": upstream} if upstream else {})}
    if force:
        params["force"] = "true"
    return Call("DELETE", "/api/curation/rules", same, params=params)


def set_local(namespace: str, local: bool) -> Call[dict[str, Any]]:
    return Call("PUT" if local else "DELETE", f"/api/curation/local/{seg(namespace)}", same)


def pin(name: str, version: str) -> Call[dict[str, Any]]:
    return Call("PUT", f"{server_path(name)}/pin", same, body={"version": version})


def unpin(name: str) -> Call[dict[str, Any]]:
    return Call("DELETE", f"{server_path(name)}/pin", same)


# -- subregistry upstreams and their syncs (admin) -----------------------------------------------


def upstreams() -> Call[list[dict[str, Any]]]:
    return Call("GET", "/api/upstreams", lambda body: list(body["upstreams"]))


def upstream(name: str) -> Call[dict[str, Any]]:
    return Call("GET", f"/api/upstreams/{seg(name)}", same)


def add_upstream(body: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("POST", "/api/upstreams", same, body=body)


def change_upstream(name: str, body: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("PATCH", f"/api/upstreams/{seg(name)}", same, body=body)


def remove_upstream(name: str) -> Call[None]:
    return Call("DELETE", f"/api/upstreams/{seg(name)}", nothing)


def sync_upstream(name: str, full: bool) -> Call[dict[str, Any]]:
    params = {"full": "true"} if full else {}
    return Call("POST", f"/api/upstreams/{seg(name)}/sync", same, params=params)


def sync_runs(name: str, limit: int, refused: bool) -> Call[list[dict[str, Any]]]:
    params = {"limit": str(limit), **({"refused": "true"} if refused else {})}
    return Call("GET", f"/api/upstreams/{seg(name)}/runs", lambda body: list(body["runs"]), params=params)


# -- variables, secrets and effective configuration -----------------------------------------------


def _scoping(version: str | None, environment: str | None) -> dict[str, str]:
    params = {}
    if version:
        params["version"] = version
    if environment:
        params["environment"] = environment
    return params


def variables(
    name: str, version: str | None = None, environment: str | None = None
) -> Call[list[dict[str, Any]]]:
    params = _scoping(version, environment)
    return Call("GET", f"{server_path(name)}/variables", lambda b: list(b["variables"]), params=params)


def set_variable(
    name: str, variable: str, value: str, version: str | None = None, environment: str | None = None
) -> Call[dict[str, Any]]:
    path = f"{server_path(name)}/variables/{seg(variable)}"
    return Call("PUT", path, same, params=_scoping(version, environment), body={"value": value})


def delete_variable(
    name: str, variable: str, version: str | None = None, environment: str | None = None
) -> Call[None]:
    path = f"{server_path(name)}/variables/{seg(variable)}"
    return Call("DELETE", path, nothing, params=_scoping(version, environment))


def secrets(
    name: str, version: str | None = None, environment: str | None = None
) -> Call[list[dict[str, Any]]]:
    params = _scoping(version, environment)
    return Call("GET", f"{server_path(name)}/secrets", lambda b: list(b["secrets"]), params=params)


def set_secret(
    name: str, secret: str, value: str, version: str | None = None, environment: str | None = None
) -> Call[dict[str, Any]]:
    """The value travels in the body only; the answer carries metadata, never the value."""
    path = f"{server_path(name)}/secrets/{seg(secret)}"
    return Call("PUT", path, same, params=_scoping(version, environment), body={"value": value})


def delete_secret(
    name: str, secret: str, version: str | None = None, environment: str | None = None
) -> Call[None]:
    path = f"{server_path(name)}/secrets/{seg(secret)}"
    return Call("DELETE", path, nothing, params=_scoping(version, environment))


def config(
    name: str, environment: str, version: str | None, reveal: bool, reason: str | None
) -> Call[dict[str, Any]]:
    """Never cached: revealed values stay out of memory, and every reveal is journaled."""
    params = {"reveal": _flag(reveal)}
    if version:
        params["version"] = version
    if reason:
        params["reason"] = reason
    path = f"/api/environments/{seg(environment)}{server_path(name, '')}/config"
    return Call("GET", path, same, params=params)


# -- environments and deployments -----------------------------------------------------------------


def env_path(environment: str) -> str:
    return f"/api/environments/{seg(environment)}"


def target_path(environment: str, name: str) -> str:
    """``/api/environments/{env}/servers/{namespace}/{server}``: one server in one environment."""
    return env_path(environment) + server_path(name, "")


def environments() -> Call[list[dict[str, Any]]]:
    return Call("GET", "/api/environments", lambda b: list(b["environments"]))


def create_environment(name: str, fields: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("POST", "/api/environments", same, body={"name": name, **fields})


def update_environment(environment: str, fields: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("PATCH", env_path(environment), same, body=fields)


def deploy_request(
    strategy: str = "immediate",
    weight: float | None = None,
    steps: list[dict[str, Any]] | None = None,
    scheduled_at: str | None = None,
    notes: str | None = None,
    analysis: dict[str, Any] | None = None,
    gates: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The strategy part of a deploy or promote body."""
    body: dict[str, Any] = {"strategy": strategy}
    if analysis is not None:
        body["analysis"] = analysis
    if gates is not None:
        body["gates"] = gates
    if weight is not None:
        body["weight"] = weight
    if steps is not None:
        body["steps"] = steps
    if scheduled_at:
        body["scheduled_at"] = scheduled_at
    if notes:
        body["notes"] = notes
    return body


def deploy(environment: str, name: str, version: str, plan: dict[str, Any]) -> Call[dict[str, Any]]:
    """Answers ``{"deployment", "current"}``; ``plan`` comes from ``deploy_request``."""
    body = {"server": name, "version": version, **plan}
    return Call("POST", f"{env_path(environment)}/deployments", same, body=body)


def deployments(environment: str, params: dict[str, str] | None = None) -> Call[list[dict[str, Any]]]:
    path = f"{env_path(environment)}/deployments"
    return Call("GET", path, lambda b: list(b["deployments"]), params=params or {})


def approve(environment: str, deployment_id: int) -> Call[dict[str, Any]]:
    return Call("POST", f"{env_path(environment)}/deployments/{deployment_id}/approve", same)


def promote(
    name: str, version: str, source: str, target: str | None, force: bool, plan: dict[str, Any]
) -> Call[dict[str, Any]]:
    """Answers ``{"deployment", "current"}``; ``target`` None is the environment after ``source``."""
    body: dict[str, Any] = {"from": source, **plan}
    if target:
        body["to"] = target
    if force:
        body["force"] = True
    return Call("POST", f"{server_path(name)}/versions/{seg(version)}/promote", same, body=body)


def rollout(environment: str, name: str) -> Call[dict[str, Any]]:
    return Call("GET", f"{target_path(environment, name)}/rollout", same)


def rollout_action(
    environment: str, name: str, action: str, body: dict[str, Any] | None = None
) -> Call[dict[str, Any]]:
    """``promote`` (one step, or ``{"full": true}``), ``pause``, ``resume`` or ``abort``."""
    return Call("POST", f"{target_path(environment, name)}/rollout/{action}", same, body=body or {})


def rollback(environment: str, name: str, version: str | None, notes: str | None) -> Call[dict[str, Any]]:
    body = {key: value for key, value in (("version", version), ("notes", notes)) if value}
    return Call("POST", f"{target_path(environment, name)}/rollback", same, body=body)


def history(environment: str, name: str) -> Call[dict[str, Any]]:
    return Call("GET", f"{target_path(environment, name)}/history", same)


def traffic(environment: str, name: str, window: str | None = None) -> Call[dict[str, Any]]:
    """The gateway's traffic per version over ``window`` (``5m`` by default), across replicas."""
    params = {"window": window} if window else {}
    return Call("GET", f"{target_path(environment, name)}/traffic", same, params=params)


def _limit_path(environment: str, name: str | None) -> str:
    return f"{target_path(environment, name) if name else env_path(environment)}/rate-limit"


def rate_limits(environment: str) -> Call[list[dict[str, Any]]]:
    """The environment's default gateway rate limit and every per-server one."""
    return Call("GET", f"{env_path(environment)}/rate-limits", lambda b: list(b["limits"]))


def rate_limit(environment: str, name: str | None) -> Call[dict[str, Any]]:
    return Call("GET", _limit_path(environment, name), same)


def set_rate_limit(environment: str, name: str | None, limits: dict[str, Any]) -> Call[dict[str, Any]]:
    return Call("PUT", _limit_path(environment, name), same, body=limits)


def delete_rate_limit(environment: str, name: str | None) -> Call[None]:
    return Call("DELETE", _limit_path(environment, name), nothing)


def health(environment: str, name: str) -> Call[dict[str, Any]]:
    """The prober's state of what runs of ``name`` in ``environment`` (stable, then canary)."""
    return Call("GET", f"{target_path(environment, name)}/health", same)


def analysis(environment: str, name: str) -> Call[dict[str, Any]]:
    """The canary analysis of the target's rollout: its checks, every verdict, the decision."""
    return Call("GET", f"{target_path(environment, name)}/analysis", same)


def gateway_path(environment: str, name: str) -> str:
    """``/environments/{env}/servers/{namespace}/{server}/mcp``: the MCP endpoint of the gateway."""
    return f"/environments/{seg(environment)}{server_path(name, '')}/mcp"


def where(name: str) -> Call[dict[str, Any]]:
    return Call("GET", f"{server_path(name)}/deployments", same)


def resolve(environment: str, name: str, client_id: str | None) -> Call[dict[str, Any]]:
    """The routing answer: ``{version, track, rolloutId, weight, config}`` (secrets masked)."""
    params = {"client": client_id} if client_id else {}
    return Call("GET", f"{target_path(environment, name)}/resolve", same, params=params)


def environment_release(
    environment: str, name: str, version: str = "latest", client_id: str | None = None
) -> Call[Release]:
    """A release through the environment's view of the official API, which shows only what is
    deployed there; ``latest`` is the release routed to ``client_id`` (stable without one).

    Public, like the view itself: an anonymous client gets what a token holder gets. A 404
    names its cause by code: ``no_deployment`` (``NoDeployment``), ``server_not_found``,
    ``environment_not_found`` or ``version_not_found`` (``NotFound``). Cached and revalidated
    like every read.
    """
    path = f"/environments/{seg(environment)}{official_path(name)}/versions/{seg(version)}"
    headers = {"X-Client-Id": client_id} if client_id else {}

    def parse(body: JSON) -> Release:
        return Release.from_body(body, environment=environment)

    return Call("GET", path, parse, headers=headers, cacheable=True)
