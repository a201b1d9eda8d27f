"""``Registry``: the blocking client. Its methods are written once, in ``operations.py``;
this module only says how a call is sent, and how the watcher thread runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, ParamSpec, TypeVar

import httpx

from mcpreg.client.calls import Call
from mcpreg.client.operations import Listing, Operation, Operations

P = ParamSpec("P")
T = TypeVar("T")


class Registry(Operations[httpx.BaseTransport]):
    """A blocking client of one mcpreg registry.

    >>> registry = Registry("http://127.0.0.1:8080", cache_ttl=30)
    >>> registry.get_server("io.github.acme/weather", environment="production").version
    """

    _http: httpx.Client

    def _connect(self, options: dict[str, Any], watch: bool) -> None:
        self._http = httpx.Client(**options)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        if watch:
            self._watcher = threading.Thread(target=self._watch, args=(options["transport"],), daemon=True)
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
        exchange = self._exchange(call)
        while (request := exchange.request()) is not None:
            try:
                exchange.receive(self._http.request(call.method, call.path, **request))
            except httpx.TransportError as exc:
                raise self._unreachable(exc) from None
        return exchange.result()

    def _method(self, operation: Operation[P, T]) -> Callable[P, T]:
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return self.call(operation.describe(self, *args, **kwargs))

        return operation.present(method)

    def _listing(self, listing: Listing[P, T]) -> Callable[P, Iterator[T]]:
        def iterate(*args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
            pages = listing.describe(self, *args, **kwargs)
            cursor: str | None = None
            while True:
                items, cursor = pages.read(self.call(pages.page(cursor)))
                yield from items
                if cursor is None:
                    return

        return listing.present(iterate)
