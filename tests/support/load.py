"""Steady request load on a live server from a few threads, counting answers and failures."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

Request = Callable[[httpx.Client], httpx.Response]


def catalogue_page(client: httpx.Client) -> httpx.Response:
    return client.get("/v0.1/servers", params={"limit": 5})


@dataclass
class Load:
    """``worker(i)`` sends ``request`` until ``stop``; half the workers keep one connection
    alive, half open a new one per request. Anything but 200 is a failure."""

    url: str
    request: Request = catalogue_page
    headers: dict[str, str] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def worker(self, index: int) -> None:
        keep = index % 2 == 0
        client = httpx.Client(base_url=self.url, headers=self.headers, timeout=30) if keep else None
        try:
            while not self.stop.is_set():
                try:
                    if client is not None:
                        response = self.request(client)
                    else:
                        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as once:
                            response = self.request(once)
                    outcome = None if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    outcome = f"{type(exc).__name__}: {exc}"
                with self.lock:
                    if outcome is None:
                        self.ok += 1
                    else:
                        self.failures.append(outcome)
        finally:
            if client is not None:
                client.close()

    def start(self, threads: int) -> list[threading.Thread]:
        started = [threading.Thread(target=self.worker, args=(i,)) for i in range(threads)]
        for thread in started:
            thread.start()
        return started
