"""Publishes per second: a few connections, each publishing new versions one after another."""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.workload import LoadResult, percentile

PUBLISH_PATH = "/v0.1/publish"
CONNECTIONS = 4
MAX_PUBLISHES = 20_000


@dataclass
class PublishRun:
    """A publish run's result plus the first failure seen and one successful response body."""

    result: LoadResult
    first_error: str | None = None
    sample: tuple[int, bytes] | None = None
    statuses: dict[int, int] = field(default_factory=dict)


def new_version(doc: dict[str, Any], version: str) -> dict[str, Any]:
    """A copy of ``doc`` at ``version``, with package versions and oci tags following it."""
    out = copy.deepcopy(doc)
    out["version"] = version
    for pkg in out.get("packages", []):
        if "version" in pkg:
            pkg["version"] = version
        if pkg.get("registryType") == "oci":
            pkg["identifier"] = pkg["identifier"].rsplit(":", 1)[0] + ":" + version
    return out


async def _worker(
    client: httpx.AsyncClient,
    docs: list[dict[str, Any]],
    worker: int,
    deadline: float,
    run: PublishRun,
    latencies: list[float],
    epoch: int,
) -> None:
    sequence = 0
    while time.perf_counter() < deadline and len(latencies) < MAX_PUBLISHES:
        doc = docs[(worker + sequence * CONNECTIONS) % len(docs)]
        body = new_version(doc, f"{epoch}.{worker}.{sequence}")
        sequence += 1
        started = time.perf_counter()
        try:
            response = await client.post(PUBLISH_PATH, json=body)
        except httpx.HTTPError as exc:
            run.first_error = run.first_error or f"{type(exc).__name__}: {exc}"
            latencies.append(time.perf_counter() - started)
            run.statuses[0] = run.statuses.get(0, 0) + 1
            await asyncio.sleep(0.05)
            continue
        latencies.append(time.perf_counter() - started)
        run.statuses[response.status_code] = run.statuses.get(response.status_code, 0) + 1
        if response.status_code < 300:
            run.sample = run.sample or (response.status_code, response.content)
        elif run.first_error is None:
            run.first_error = f"HTTP {response.status_code}: {response.text[:300]}"


async def _run(
    base_url: str, token: str | None, docs: list[dict[str, Any]], duration: float, epoch: int
) -> PublishRun:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    latencies: list[float] = []
    run = PublishRun(result=LoadResult(0, 0.0, 0, 0.0, 0.0, "httpx", CONNECTIONS))
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=10.0) as client:
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.wait_for(
            asyncio.gather(
                *(_worker(client, docs, w, deadline, run, latencies, epoch) for w in range(CONNECTIONS))
            ),
            duration + 30,
        )
        elapsed = time.perf_counter() - started
    ok = sum(n for status, n in run.statuses.items() if 200 <= status < 300)
    ordered = sorted(latencies)
    run.result = LoadResult(
        requests=ok,
        seconds=elapsed,
        errors=len(latencies) - ok,
        p50_ms=percentile(ordered, 50) * 1000,
        p99_ms=percentile(ordered, 99) * 1000,
        generator="httpx",
        connections=CONNECTIONS,
    )
    return run


def run(
    base_url: str, token: str | None, docs: list[dict[str, Any]], duration: float, epoch: int = 90
) -> PublishRun:
    """Publish new versions (``<epoch>.<worker>.<n>``) of ``docs`` for ``duration`` seconds.

    Only successful publishes count towards the rate; the rest are errors. ``epoch`` keeps
    versions unique when the same database is published to twice (mcpreg, then baseline).
    """
    return asyncio.run(_run(base_url, token, docs, duration, epoch))
