"""Run a Workload with wrk when installed, else with the bundled asyncio generator."""

from __future__ import annotations

import time

import httpx

from bench import aioload, wrk
from bench.workload import LoadResult, Workload

CONNECTIONS = 64
PRIME_REQUESTS = 200
PRIME_SECONDS = 3.0


def generator_name(preferred: str) -> str:
    """``wrk`` or ``python``: what ``run`` will use for ``preferred`` (auto, wrk or python)."""
    if preferred == "python":
        return "python"
    if wrk.available():
        return "wrk"
    if preferred == "wrk":
        raise SystemExit("--load-generator wrk was asked for but wrk is not installed")
    return "python"


def run(
    base_url: str,
    workload: Workload,
    duration: float,
    generator: str,
    connections: int = CONNECTIONS,
    warmup: float = 0.0,
) -> LoadResult:
    """Prime, an optional short unrecorded warm-up, then one timed run."""
    driver = wrk.run if generator == "wrk" else aioload.run
    prime(base_url, workload)
    if warmup > 0:
        driver(base_url, workload, warmup, connections)
    return driver(base_url, workload, duration, connections)


def prime(base_url: str, workload: Workload) -> int:
    """One sequential pass over up to ``PRIME_REQUESTS`` distinct URLs (bounded in time), unrecorded.

    Every target gets the same pass, so first-request costs (imports, caches, connection pools)
    are paid before the clock starts even when there is no warm-up run.
    """
    deadline = time.monotonic() + PRIME_SECONDS
    sent = 0
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        for index, path in enumerate(workload.paths[:PRIME_REQUESTS]):
            if time.monotonic() > deadline:
                break
            url = path + "1" if workload.client_param else path
            try:
                client.get(url, headers=workload.request_headers(index))
            except httpx.HTTPError:
                break
            sent += 1
    return sent
