"""The fallback load generator: keep-alive HTTP/1.1 over raw asyncio sockets (used without wrk).

It is slower than wrk (Python parses every response), so on a small machine it takes more CPU
from the server under test; it drives mcpreg and the baseline the same way, so ratios stay
comparable even when absolute numbers drop.
"""

from __future__ import annotations

import asyncio
import random
import time
from urllib.parse import urlsplit

from bench.workload import LoadResult, Workload, percentile

MAX_REQUESTS = 5_000_000


class _Counter:
    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.latencies: list[float] = []


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return the status and whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, keep = 0, False, True
    for raw in lines[1:]:
        key, _, value = raw.partition(b":")
        key = key.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif key == b"connection" and b"close" in value.lower():
            keep = False
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length and status not in (204, 304):
        await reader.readexactly(length)
    return status, keep


def _request_bytes(workload: Workload, index: int, host: str, rng: random.Random) -> bytes:
    path = workload.paths[index]
    if workload.client_param:
        path += str(rng.randint(1, 1_000_000_000))
    extra = "".join(f"{k}: {v}\r\n" for k, v in workload.request_headers(index).items())
    body = (workload.body or "").encode()
    if workload.body is not None:
        extra += f"Content-Length: {len(body)}\r\n"
    return f"{workload.method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode() + body


async def _connection(
    host: str, port: int, workload: Workload, deadline: float, seed: int, counter: _Counter
) -> None:
    rng = random.Random(seed)
    index = rng.randrange(len(workload.paths))
    writer: asyncio.StreamWriter | None = None
    while time.perf_counter() < deadline and counter.requests < MAX_REQUESTS:
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            index = (index + 1) % len(workload.paths)
            started = time.perf_counter()
            writer.write(_request_bytes(workload, index, f"{host}:{port}", rng))
            status, keep = await asyncio.wait_for(_read_response(reader), 5)
            counter.latencies.append(time.perf_counter() - started)
            counter.requests += 1
            if status >= 400:
                counter.errors += 1
            if not keep:
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            counter.errors += 1
            if writer is not None:
                writer.close()
                writer = None
            await asyncio.sleep(0.01)
    if writer is not None:
        writer.close()


async def _run(base_url: str, workload: Workload, duration: float, connections: int) -> LoadResult:
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    counter = _Counter()
    started = time.perf_counter()
    deadline = started + duration
    tasks = [_connection(host, port, workload, deadline, seed, counter) for seed in range(connections)]
    await asyncio.wait_for(asyncio.gather(*tasks), duration + 30)
    elapsed = time.perf_counter() - started
    latencies = sorted(counter.latencies)
    return LoadResult(
        requests=counter.requests,
        seconds=elapsed,
        errors=counter.errors,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        generator="python",
        connections=connections,
    )


def run(base_url: str, workload: Workload, duration: float, connections: int) -> LoadResult:
    """Run the workload for ``duration`` seconds over ``connections`` keep-alive connections."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_run(base_url, workload, duration, connections))
    return uvloop.run(_run(base_url, workload, duration, connections))
