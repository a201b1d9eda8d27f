"""``GET /readyz``: whether this replica should be sent traffic.

Liveness is ``/v0.1/health`` (the process answers); readiness also needs the database to
answer with the schema this build expects, and turns false from the first SIGTERM on, so
a load balancer stops sending new requests before the replica stops taking them.
"""

from __future__ import annotations

import asyncio
import logging
import time

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcpreg.api.runtime import runtime
from mcpreg.db import migrate

log = logging.getLogger("mcpreg")
CHECK_TIMEOUT = 2.0  # seconds; a probe that waits longer than its own timeout is useless


class Drain:
    """Set once, when the replica is asked to stop: readiness fails and long polls answer now."""

    def __init__(self) -> None:
        self.since: float | None = None

    @property
    def draining(self) -> bool:
        return self.since is not None

    def start(self) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.info("draining: readiness is now false; in-flight requests finish")


def _answer(status: int, body: dict[str, str | None]) -> Response:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


async def readyz(request: Request) -> Response:
    if runtime(request.app).drain.draining:
        return _answer(503, {"status": "draining"})
    try:
        revision = await asyncio.wait_for(
            run_in_threadpool(migrate.current_revision, runtime(request.app).engine), timeout=CHECK_TIMEOUT
        )
    except TimeoutError:
        return _answer(503, {"status": "unavailable", "reason": "the database did not answer in time"})
    except sa.exc.SQLAlchemyError as exc:
        log.warning("readiness: the database is unavailable (%s)", type(exc).__name__)
        return _answer(503, {"status": "unavailable", "reason": "the database is unavailable"})
    if not migrate.serves(revision):
        return _answer(503, {"status": "migrating", "schema": revision, "needs": migrate.HEAD})
    return _answer(200, {"status": "ready", "schema": revision})
