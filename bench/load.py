"""Run a Workload with wrk (required) or, for development, the bundled asyncio generator."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from bench import aioload, wrk
from bench.workload import LoadResult, Workload

CONNECTIONS = 64
PRIME_REQUESTS = 200
PRIME_SECONDS = 3.0


WRK_MISSING = (
    "wrk is not installed, and the benchmark needs it: the bundled python generator saturates "
    "near the rates mcpreg serves, so it would measure itself. Install it (`apt-get install -y wrk`, "
    "`brew install wrk`; `make bench` tries apt-get when run as root), or pass "
    "`--load-generator python` for development (ratios are then printed only where the raw ASGI "
    "ceiling shows the generator was not the bottleneck)."
)


def generator_name(preferred: str) -> str:
    """``wrk`` or ``python``; exits with status 2 and says why when wrk is asked for and missing."""
    if preferred == "python":
        return "python"
    if not wrk.available():
        raise SystemExit(WRK_MISSING)
    return "wrk"


def run(
    base_url: str,
    workload: Workload,
    duration: float,
    generator: str,
    connections: int = CONNECTIONS,
    warmup: float = 0.0,
    meters: dict[str, Callable[[], float]] | None = None,
) -> tuple[LoadResult, dict[str, float]]:
    """Prime, an optional short unrecorded warm-up, then one timed run.

    Returns the run's result and, for each of ``meters`` (a counter of seconds the server
    has used so far: CPU time, event-loop busy time), its growth over the timed run as a
    share of the run's duration.
    """
    driver = wrk.run if generator == "wrk" else aioload.run
    meters = meters or {}
    prime(base_url, workload)
    if warmup > 0:
        driver(base_url, workload, warmup, connections)
    before = {name: read() for name, read in meters.items()}
    result = driver(base_url, workload, duration, connections)
    if result.seconds <= 0:
        return result, {}
    return result, {name: (read() - before[name]) / result.seconds for name, read in meters.items()}


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
                headers = workload.request_headers(index)
                client.request(workload.method, url, headers=headers, content=workload.body)
            except httpx.HTTPError:
                break
            sent += 1
    return sent
