"""What the sync and async clients share: settings, headers, the cache and error mapping."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import httpx
import orjson

import mcpreg
from mcpreg.client import calls
from mcpreg.client.cache import ResponseCache
from mcpreg.client.calls import Call
from mcpreg.client.errors import RegistryClientError, error_for, unreachable
from mcpreg.client.models import Release

T = TypeVar("T")
TransportT = TypeVar("TransportT")
Hook = Callable[[Any], Any]
DEFAULT_URL = "http://127.0.0.1:8080"


class _Again:
    """A 304 arrived for an entry that was dropped meanwhile: send the call again, unconditionally."""


AGAIN = _Again()


class RegistryBase(Generic[TransportT]):
    """Connection settings and the per-URL response cache (``cache_ttl`` seconds, 0 = revalidate)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        token: str | None = None,
        cache_ttl: float = 30,
        *,
        timeout: float = 10.0,
        transport: TransportT | None = None,
        event_hooks: Mapping[str, list[Hook]] | None = None,
        watch: bool = False,
    ) -> None:
        """``watch=True`` long-polls ``/api/changes`` (``Registry``: in a daemon thread;
        ``AsyncRegistry``: in a task started on ``async with``) and makes every cached answer
        stale as soon as anything in the registry changes (a rollback reaches this client in
        about a second, whatever ``cache_ttl`` is)."""
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.cache = ResponseCache(cache_ttl)
        self._generation = -1
        options = {
            "base_url": self.url,
            "headers": self._base_headers(),
            "timeout": timeout,
            "transport": transport,
            "event_hooks": dict(event_hooks or {}),
        }
        self._connect(options, watch)

    def _connect(self, options: dict[str, Any], watch: bool) -> None:
        """Open the flavour's HTTP client with ``options`` (and, with ``watch``, its watcher)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, cache_ttl={self.cache.ttl!r})"

    def clear_cache(self) -> None:
        """Forget every cached answer; the next reads go to the registry."""
        self.cache.clear()

    # -- watching for changes (``watch=True``) ---------------------------------------------------

    WATCH_WAIT = 20  # seconds one long-poll of /api/changes may hang
    WATCH_RETRY = 1.0  # seconds to wait after a failed poll

    def _watch_params(self) -> dict[str, int]:
        return {"after": self._generation, "wait": self.WATCH_WAIT}

    def _observe(self, response: httpx.Response) -> bool:
        """Take one /api/changes answer; expire the cache when the registry changed. False on failure."""
        if response.status_code != 200:
            return False
        generation = int(response.json()["generation"])
        if self._generation >= 0 and generation != self._generation:
            self.cache.expire_all()
        self._generation = generation
        return True

    def _base_headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"mcpreg-client/{mcpreg.__version__}", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    # -- one exchange: before sending, and on the answer ---------------------------------------

    def _exchange(self, call: Call[T]) -> Exchange[T]:
        return Exchange(self, call)

    def _cached(self, call: Call[Any]) -> tuple[bytes | None, str | None]:
        """``(body, None)`` when a fresh answer is in memory, else ``(None, etag-or-None)``."""
        if not call.cacheable:
            return None, None
        body = self.cache.fresh(call.key)
        if body is not None:
            return body, None
        return None, self.cache.etag(call.key)

    def _request_args(self, call: Call[Any], etag: str | None) -> dict[str, Any]:
        headers = dict(call.headers)
        if etag:
            headers["If-None-Match"] = etag
        args: dict[str, Any] = {"params": call.params, "headers": headers}
        if call.body is not None:
            args["json"] = call.body
        return args

    def _answer(self, call: Call[Any], etag: str | None, response: httpx.Response) -> bytes | _Again:
        """The raw body of ``response`` (or AGAIN); raises the typed error for a refusal."""
        if response.status_code == 304 and etag:
            body = self.cache.revalidated(call.key, etag)
            return AGAIN if body is None else body
        if response.status_code >= 400:
            raise error_for(response)
        if call.cacheable:
            tag = response.headers.get("etag")
            if tag and response.content:
                self.cache.store(call.key, tag, response.content)
        elif call.method != "GET":
            self.cache.clear()  # our own change: never serve what it replaced
        return response.content

    def _parse(self, call: Call[T], body: bytes) -> T:
        """Each read decodes afresh, so callers may change what they get without touching the cache."""
        try:
            return call.parse(orjson.loads(body) if body else None)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise RegistryClientError(
                f"{self.url} answered {call.method} {call.path} with something that is not mcpreg's API",
                code="invalid_response",
            ) from None

    def _unreachable(self, exc: httpx.TransportError) -> Exception:
        return unreachable(self.url, exc)

    # -- choosing what answers get_server ------------------------------------------------------

    @staticmethod
    def _server_call(
        name: str,
        version: str | None,
        channel: str | None,
        range_: str | None,
        environment: str | None,
        client_id: str | None,
        prerelease: bool,
    ) -> Call[Release]:
        picked = [k for k, v in (("version", version), ("channel", channel), ("range", range_)) if v]
        if len(picked) > 1:
            raise ValueError(f"give one of version, channel or range, not {' and '.join(picked)}")
        if environment is not None:
            if channel or range_:
                raise ValueError("an environment serves what is deployed there: ask by version or not at all")
            return calls.environment_release(environment, name, version or "latest", client_id)
        if client_id is not None:
            raise ValueError("client_id routes between a stable and a canary: give an environment too")
        if range_:
            return calls.resolve_range(name, range_, prerelease)
        return calls.get_release(name, version or channel or "latest")


class Exchange(Generic[T]):
    """One call through the cache, without I/O: the client sends each ``request()`` (``None``
    once the answer is in) and hands back the response to ``receive``; then ``result()``."""

    def __init__(self, registry: RegistryBase[Any], call: Call[T]) -> None:
        self.registry = registry
        self.call = call
        self.body, self.etag = registry._cached(call)
        self.sent = 0

    def request(self) -> dict[str, Any] | None:
        """The keyword arguments of the next ``request(method, path, ...)``, or None when done."""
        if self.body is not None:
            return None
        if self.sent == 2:
            raise AssertionError("unreachable: a request without If-None-Match never gets 304")
        self.sent += 1
        return self.registry._request_args(self.call, self.etag)

    def receive(self, response: httpx.Response) -> None:
        answer = self.registry._answer(self.call, self.etag, response)
        if isinstance(answer, bytes):
            self.body = answer
        else:
            self.etag = None  # AGAIN: ask once more, unconditionally

    def result(self) -> T:
        assert self.body is not None
        return self.registry._parse(self.call, self.body)
