"""``Registry``: the blocking client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx

from mcpreg.client import calls
from mcpreg.client.base import AGAIN, DEFAULT_URL, RegistryBase
from mcpreg.client.calls import Call
from mcpreg.client.models import Release

T = TypeVar("T")
Hook = Callable[[Any], Any]


class Registry(RegistryBase):
    """A blocking client of one mcpreg registry.

    >>> registry = Registry("http://127.0.0.1:8080", cache_ttl=30)
    >>> registry.get_server("io.github.acme/weather", environment="production").version
    """

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: str | None = None,
        cache_ttl: float = 30,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        event_hooks: Mapping[str, list[Hook]] | None = None,
        watch: bool = False,
    ) -> None:
        """``watch=True`` long-polls ``/api/changes`` in a daemon thread and makes every cached
        answer stale as soon as anything in the registry changes (a rollback reaches this
        client in about a second, whatever ``cache_ttl`` is)."""
        super().__init__(url, token, cache_ttl, timeout=timeout)
        self._http = httpx.Client(
            base_url=self.url,
            headers=self._base_headers(),
            timeout=timeout,
            transport=transport,
            event_hooks=dict(event_hooks or {}),
        )
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        if watch:
            self._watcher = threading.Thread(target=self._watch, args=(transport,), daemon=True)
            self._watcher.start()

    def _watch(self, transport: httpx.BaseTransport | None) -> None:
        timeout = httpx.Timeout(self.timeout, read=self.WATCH_WAIT + self.timeout)
        with httpx.Client(
            base_url=self.url, headers=self._base_headers(), timeout=timeout, transport=transport
        ) as http:
            while not self._stop.is_set():
                try:
                    ok = self._observe(http.get("/api/changes", params=self._watch_params()))
                except (httpx.HTTPError, ValueError, KeyError):
                    ok = False
                if not ok:
                    self._stop.wait(self.WATCH_RETRY)

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._http.close()

    def call(self, call: Call[T]) -> T:
        """Send one described request, through the cache when it is a read."""
        return self._exchange(call)

    def _exchange(self, call: Call[T]) -> T:
        body, etag = self._cached(call)
        if body is not None:
            return self._parse(call, body)
        for _ in range(2):
            try:
                response = self._http.request(call.method, call.path, **self._request_args(call, etag))
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
            answer = self._answer(call, etag, response)
            if answer is not AGAIN:
                assert isinstance(answer, bytes)
                return self._parse(call, answer)
            etag = None
        raise AssertionError("unreachable: a request without If-None-Match never gets 304")

    # -- discovery -------------------------------------------------------------------------------

    def get_server(
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
        """One release: ``latest`` by default, or an exact version, a channel or a range.

        With ``environment``, what is deployed there: the release ``client_id`` is routed
        to (stable or canary), or the stable one without it. Raises ``NoDeployment`` when
        nothing of ``name`` is deployed in that environment.
        """
        return self.call(self._server_call(name, version, channel, range, environment, client_id, prerelease))

    def list_servers(
        self,
        *,
        search: str | None = None,
        updated_since: str | None = None,
        version: str | None = None,
        include_deleted: bool = False,
        page_size: int = 100,
    ) -> Iterator[Release]:
        """Every matching release, following the cursor over every page."""
        cursor: str | None = None
        while True:
            page = self.call(
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

    def versions(self, name: str) -> list[Release]:
        """Every version newest first; with a token, drafts and deleted releases too."""
        return self.call(calls.versions(name, everything=bool(self.token)))

    def channels(self, name: str) -> list[dict[str, Any]]:
        return self.call(calls.channels(name))

    def diff(self, name: str, old: str, new: str) -> dict[str, Any]:
        """``{"from", "to", "changes": [{op, path, old, new}]}`` between two versions or channels."""
        return self.call(calls.diff(name, old, new))

    def whoami(self) -> dict[str, Any]:
        return self.call(calls.whoami())

    # -- publishing ------------------------------------------------------------------------------

    def publish(self, document: dict[str, Any], *, draft: bool = False) -> Release:
        """Publish a server.json, or store it as an editable, invisible draft."""
        return self.call(calls.create_draft(document) if draft else calls.publish(document))

    def update_draft(self, name: str, version: str, document: dict[str, Any]) -> Release:
        return self.call(calls.update_draft(name, version, document))

    def publish_draft(self, name: str, version: str) -> Release:
        return self.call(calls.publish_draft(name, version))

    def duplicate(self, name: str, version: str, new_version: str) -> Release:
        """Copy a release into a new draft numbered ``new_version``."""
        return self.call(calls.duplicate(name, version, new_version))

    def set_status(
        self, name: str, version: str, status: str, message: str | None = None, *, force: bool = False
    ) -> Release:
        """``active``, ``deprecated`` or ``deleted``, with an optional message.

        Deleting a release that runs in some environment is refused (``Conflict``,
        ``release_in_use``) unless ``force``.
        """
        return self.call(calls.set_status(name, version, status, message, force=force))

    def set_channel(self, name: str, channel: str, version: str) -> dict[str, Any]:
        return self.call(calls.set_channel(name, channel, version))

    def delete_channel(self, name: str, channel: str) -> None:
        self.call(calls.delete_channel(name, channel))

    # -- variables, secrets, configuration -------------------------------------------------------

    def variables(
        self, name: str, *, version: str | None = None, environment: str | None = None
    ) -> list[dict[str, Any]]:
        """Variables of every scope, or of the one release or environment given."""
        return self.call(calls.variables(name, version, environment))

    def set_variable(
        self,
        name: str,
        variable: str,
        value: str,
        *,
        version: str | None = None,
        environment: str | None = None,
    ) -> dict[str, Any]:
        return self.call(calls.set_variable(name, variable, value, version, environment))

    def delete_variable(
        self, name: str, variable: str, *, version: str | None = None, environment: str | None = None
    ) -> None:
        self.call(calls.delete_variable(name, variable, version, environment))

    def secrets(
        self, name: str, *, version: str | None = None, environment: str | None = None
    ) -> list[dict[str, Any]]:
        """Secrets' metadata (name, scope, key id, who, when, revision), never their values."""
        return self.call(calls.secrets(name, version, environment))

    def set_secret(
        self,
        name: str,
        secret: str,
        value: str,
        *,
        version: str | None = None,
        environment: str | None = None,
    ) -> dict[str, Any]:
        return self.call(calls.set_secret(name, secret, value, version, environment))

    def delete_secret(
        self, name: str, secret: str, *, version: str | None = None, environment: str | None = None
    ) -> None:
        self.call(calls.delete_secret(name, secret, version, environment))

    def config(
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
        return self.call(calls.config(name, environment, version=version, reveal=reveal, reason=reason))

    # -- environments and deployments ------------------------------------------------------------

    def environments(self) -> list[dict[str, Any]]:
        """Every environment in promotion order, with its flags."""
        return self.call(calls.environments())

    def create_environment(self, name: str, **fields: Any) -> dict[str, Any]:
        """Fields: ``position``, ``protected``, ``requiresApproval``, ``allowPrereleases``,
        ``description``."""
        return self.call(calls.create_environment(name, fields))

    def update_environment(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.call(calls.update_environment(name, fields))

    def deploy(
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
        return self.call(calls.deploy(environment, name, version, plan))

    def deployments(self, environment: str, **params: str) -> list[dict[str, Any]]:
        return self.call(calls.deployments(environment, params))

    def approve(self, environment: str, deployment_id: int) -> dict[str, Any]:
        return self.call(calls.approve(environment, deployment_id))

    def promote(
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
        return self.call(calls.promote(name, version, source, target, force, plan))

    def rollout(self, name: str, environment: str) -> dict[str, Any]:
        """Stable and canary versions, weight, step, and when the next step is due."""
        return self.call(calls.rollout(environment, name))

    def rollout_promote(self, name: str, environment: str, *, full: bool = False) -> dict[str, Any]:
        return self.call(calls.rollout_action(environment, name, "promote", {"full": True} if full else None))

    def rollout_pause(self, name: str, environment: str) -> dict[str, Any]:
        return self.call(calls.rollout_action(environment, name, "pause"))

    def rollout_resume(self, name: str, environment: str) -> dict[str, Any]:
        return self.call(calls.rollout_action(environment, name, "resume"))

    def rollout_abort(self, name: str, environment: str) -> dict[str, Any]:
        return self.call(calls.rollout_action(environment, name, "abort"))

    def rollback(
        self, name: str, environment: str, *, version: str | None = None, notes: str | None = None
    ) -> dict[str, Any]:
        """Back to the last known good version (or ``version``) at once."""
        return self.call(calls.rollback(environment, name, version, notes))

    def resolve(self, name: str, environment: str, client_id: str | None = None) -> dict[str, Any]:
        """Which release ``client_id`` gets (``track``: stable or canary) and its configuration."""
        return self.call(calls.resolve(environment, name, client_id))

    def history(self, name: str, environment: str) -> dict[str, Any]:
        return self.call(calls.history(environment, name))

    def where(self, name: str) -> dict[str, Any]:
        """What runs of ``name`` in every environment."""
        return self.call(calls.where(name))
