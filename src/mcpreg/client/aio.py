"""``AsyncRegistry``: the asyncio client, the same calls as ``Registry``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from mcpreg.client import calls
from mcpreg.client.base import AGAIN, DEFAULT_URL, RegistryBase
from mcpreg.client.calls import Call
from mcpreg.client.models import Release

T = TypeVar("T")
Hook = Callable[[Any], Any]


class AsyncRegistry(RegistryBase):
    """An asyncio client of one mcpreg registry; use it as ``async with AsyncRegistry(url) as r``."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: str | None = None,
        cache_ttl: float = 30,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: Mapping[str, list[Hook]] | None = None,
        watch: bool = False,
    ) -> None:
        """``watch=True`` long-polls ``/api/changes`` in a task (started on ``async with``) and
        makes every cached answer stale as soon as anything in the registry changes."""
        super().__init__(url, token, cache_ttl, timeout=timeout)
        self._http = httpx.AsyncClient(
            base_url=self.url,
            headers=self._base_headers(),
            timeout=timeout,
            transport=transport,
            event_hooks=dict(event_hooks or {}),
        )
        self._watch_enabled = watch
        self._watcher: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        timeout = httpx.Timeout(self.timeout, read=self.WATCH_WAIT + self.timeout)
        while True:
            try:
                response = await self._http.get("/api/changes", params=self._watch_params(), timeout=timeout)
                ok = self._observe(response)
            except (httpx.HTTPError, ValueError, KeyError):
                ok = False
            if not ok:
                await asyncio.sleep(self.WATCH_RETRY)

    async def __aenter__(self) -> AsyncRegistry:
        if self._watch_enabled and self._watcher is None:
            self._watcher = asyncio.create_task(self._watch())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self._http.aclose()

    async def call(self, call: Call[T]) -> T:
        """Send one described request, through the cache when it is a read."""
        return await self._exchange(call)

    async def _exchange(self, call: Call[T]) -> T:
        body, etag = self._cached(call)
        if body is not None:
            return self._parse(call, body)
        for _ in range(2):
            try:
                response = await self._http.request(call.method, call.path, **self._request_args(call, etag))
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
            answer = self._answer(call, etag, response)
            if answer is not AGAIN:
                assert isinstance(answer, bytes)
                return self._parse(call, answer)
            etag = None
        raise AssertionError("unreachable: a request without If-None-Match never gets 304")

    async def get_server(
        self,
        name: str,
        version: str | None = None,
        channel: str | None = None,
        range: str | None = None,
        environment: str | None = None,
        client_id: str | None = None,
        *,
        prerelease: bool = False,
    ) -> Release:
        """See ``Registry.get_server``."""
        call = self._server_call(name, version, channel, range, environment, client_id, prerelease)
        return await self.call(call)

    async def list_servers(
        self,
        *,
        search: str | None = None,
        updated_since: str | None = None,
        version: str | None = None,
        include_deleted: bool = False,
        page_size: int = 100,
    ) -> AsyncIterator[Release]:
        """Every matching release, following the cursor over every page."""
        cursor: str | None = None
        while True:
            page = await self.call(
                calls.list_page(
                    cursor,
                    limit=page_size,
                    search=search,
                    updated_since=updated_since,
                    version=version,
                    include_deleted=include_deleted,
                )
            )
            for item in page.get("servers", []):
                yield Release.from_body(item)
            cursor = page.get("metadata", {}).get("nextCursor")
            if not cursor:
                return

    # -- the same thin methods as Registry ---------------------------------------------------------

    async def versions(self, name: str) -> list[Release]:
        """Every version newest first; with a token, drafts and deleted releases too."""
        return await self.call(calls.versions(name, everything=bool(self.token)))

    async def channels(self, name: str) -> list[dict[str, Any]]:
        return await self.call(calls.channels(name))

    async def diff(self, name: str, old: str, new: str) -> dict[str, Any]:
        """``{"from", "to", "changes": [{op, path, old, new}]}`` between two versions or channels."""
        return await self.call(calls.diff(name, old, new))

    async def whoami(self) -> dict[str, Any]:
        return await self.call(calls.whoami())

    # -- publishing ------------------------------------------------------------------------------

    async def publish(self, document: dict[str, Any], *, draft: bool = False) -> Release:
        """Publish a server.json, or store it as an editable, invisible draft."""
        return await self.call(calls.create_draft(document) if draft else calls.publish(document))

    async def update_draft(self, name: str, version: str, document: dict[str, Any]) -> Release:
        return await self.call(calls.update_draft(name, version, document))

    async def publish_draft(self, name: str, version: str) -> Release:
        return await self.call(calls.publish_draft(name, version))

    async def duplicate(self, name: str, version: str, new_version: str) -> Release:
        """Copy a release into a new draft numbered ``new_version``."""
        return await self.call(calls.duplicate(name, version, new_version))

    async def set_status(
        self, name: str, version: str, status: str, message: str | None = None, *, force: bool = False
    ) -> Release:
        """``active``, ``deprecated`` or ``deleted``, with an optional message.

        Deleting a release that runs in some environment is refused (``Conflict``,
        ``release_in_use``) unless ``force``.
        """
        return await self.call(calls.set_status(name, version, status, message, force=force))

    async def set_channel(self, name: str, channel: str, version: str) -> dict[str, Any]:
        return await self.call(calls.set_channel(name, channel, version))

    async def delete_channel(self, name: str, channel: str) -> None:
        await self.call(calls.delete_channel(name, channel))

    # -- variables, secrets, configuration -------------------------------------------------------

    async def variables(
        self, name: str, *, version: str | None = None, environment: str | None = None
    ) -> list[dict[str, Any]]:
        """Variables of every scope, or of the one release or environment given."""
        return await self.call(calls.variables(name, version, environment))

    async def set_variable(
        self,
        name: str,
        variable: str,
        value: str,
        *,
        version: str | None = None,
        environment: str | None = None,
    ) -> dict[str, Any]:
        return await self.call(calls.set_variable(name, variable, value, version, environment))

    async def delete_variable(
        self, name: str, variable: str, *, version: str | None = None, environment: str | None = None
    ) -> None:
        await self.call(calls.delete_variable(name, variable, version, environment))

    async def secrets(
        self, name: str, *, version: str | None = None, environment: str | None = None
    ) -> list[dict[str, Any]]:
        """Secrets' metadata (name, scope, key id, who, when, revision), never their values."""
        return await self.call(calls.secrets(name, version, environment))

    async def set_secret(
        self,
        name: str,
        secret: str,
        value: str,
        *,
        version: str | None = None,
        environment: str | None = None,
    ) -> dict[str, Any]:
        return await self.call(calls.set_secret(name, secret, value, version, environment))

    async def delete_secret(
        self, name: str, secret: str, *, version: str | None = None, environment: str | None = None
    ) -> None:
        await self.call(calls.delete_secret(name, secret, version, environment))

    async def config(
        self,
        name: str,
        environment: str,
        *,
        version: str | None = None,
        reveal: bool = False,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """The effective configuration in ``environment``; secrets in plaintext only with
        ``reveal`` and a ``secrets:read`` token (each reveal is journaled with ``reason``)."""
        return await self.call(calls.config(name, environment, version=version, reveal=reveal, reason=reason))

    # -- environments and deployments ------------------------------------------------------------

    async def environments(self) -> list[dict[str, Any]]:
        """Every environment in promotion order, with its flags."""
        return await self.call(calls.environments())

    async def create_environment(self, name: str, **fields: Any) -> dict[str, Any]:
        """Fields: ``position``, ``protected``, ``requiresApproval``, ``allowPrereleases``,
        ``description``."""
        return await self.call(calls.create_environment(name, fields))

    async def update_environment(self, name: str, **fields: Any) -> dict[str, Any]:
        return await self.call(calls.update_environment(name, fields))

    async def deploy(
        self,
        name: str,
        version: str,
        environment: str,
        *,
        strategy: str = "immediate",
        weight: float | None = None,
        steps: list[dict[str, Any]] | None = None,
        scheduled_at: str | None = None,
        notes: str | None = None,
    ) -> dict[str, Any]:
        """Deploy a release: ``immediate``, ``canary`` with a ``weight``, or ``staged`` with ``steps``."""
        plan = calls.deploy_request(strategy, weight, steps, scheduled_at, notes)
        return await self.call(calls.deploy(environment, name, version, plan))

    async def deployments(self, environment: str, **params: str) -> list[dict[str, Any]]:
        return await self.call(calls.deployments(environment, params))

    async def approve(self, environment: str, deployment_id: int) -> dict[str, Any]:
        return await self.call(calls.approve(environment, deployment_id))

    async def promote(
        self,
        name: str,
        version: str,
        source: str,
        target: str | None = None,
        *,
        force: bool = False,
        strategy: str = "immediate",
        weight: float | None = None,
        steps: list[dict[str, Any]] | None = None,
        notes: str | None = None,
    ) -> dict[str, Any]:
        """Deploy to ``target`` (default: the next environment) the ``version`` running in ``source``."""
        plan = calls.deploy_request(strategy, weight, steps, None, notes)
        return await self.call(calls.promote(name, version, source, target, force, plan))

    async def rollout(self, name: str, environment: str) -> dict[str, Any]:
        """Stable and canary versions, weight, step, and when the next step is due."""
        return await self.call(calls.rollout(environment, name))

    async def rollout_promote(self, name: str, environment: str, *, full: bool = False) -> dict[str, Any]:
        return await self.call(
            calls.rollout_action(environment, name, "promote", {"full": True} if full else None)
        )

    async def rollout_pause(self, name: str, environment: str) -> dict[str, Any]:
        return await self.call(calls.rollout_action(environment, name, "pause"))

    async def rollout_resume(self, name: str, environment: str) -> dict[str, Any]:
        return await self.call(calls.rollout_action(environment, name, "resume"))

    async def rollout_abort(self, name: str, environment: str) -> dict[str, Any]:
        return await self.call(calls.rollout_action(environment, name, "abort"))

    async def rollback(
        self, name: str, environment: str, *, version: str | None = None, notes: str | None = None
    ) -> dict[str, Any]:
        """Back to the last known good version (or ``version``) at once."""
        return await self.call(calls.rollback(environment, name, version, notes))

    async def resolve(self, name: str, environment: str, client_id: str | None = None) -> dict[str, Any]:
        """Which release ``client_id`` gets (``track``: stable or canary) and its configuration."""
        return await self.call(calls.resolve(environment, name, client_id))

    async def history(self, name: str, environment: str) -> dict[str, Any]:
        return await self.call(calls.history(environment, name))

    async def where(self, name: str) -> dict[str, Any]:
        """What runs of ``name`` in every environment."""
        return await self.call(calls.where(name))
