"""``GET /api/changes``: a long-poll on the registry's change generation.

Every change anywhere bumps one counter (``services.journal``); each replica learns it
within 0.25 s. A client that holds long TTLs asks ``/api/changes?after=G`` and gets an
answer as soon as the generation moves past G (or after ``wait`` seconds), so it can
revalidate its cache at once instead of waiting its TTL out. The answer carries only
the number, nothing about what changed, so it is public.
"""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.api.http import json_response, query_int
from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.services.journal import current_generation

MAX_WAIT = 30
STEP = 0.05


async def _generation(request: Request) -> int:
    rt = runtime(request.app)
    cache = rt.cache
    if rt.background and cache.generation >= 0:
        return int(cache.generation)

    def read() -> int:
        with unit_of_work(rt.engine) as session:
            return current_generation(session)

    return await run_in_threadpool(read)


async def changes(request: Request) -> Response:
    after = query_int(request, "after", -1, -1, 2**62)
    wait = query_int(request, "wait", 25, 0, MAX_WAIT)
    deadline = time.monotonic() + wait
    generation = await _generation(request)
    rt = runtime(request.app)
    drain = rt.drain  # a replica that is stopping answers at once
    while generation == after and time.monotonic() < deadline and not drain.draining:
        await asyncio.sleep(STEP if rt.background else 0.25)
        if await request.is_disconnected():  # the client went away: nobody waits for this answer
            return Response(status_code=204)
        generation = await _generation(request)
    return json_response(request, {"generation": generation, "changed": generation != after})
