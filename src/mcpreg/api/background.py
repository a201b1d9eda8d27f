"""Background work: the loops a replica runs beside its requests, started and stopped by name.

The app's lifespan starts them (``running``) when it was built with ``background=True``,
once the database is prepared, and stops them on shutdown (cancelled, then awaited):

* ``generation-watcher``: every ``WATCH_INTERVAL`` seconds, reads the change generations and
  hands them to the response cache (``ResponseCache.observe``), so a change made through
  another replica is served here within one poll;
* ``rollout-scheduler``: every ``MCPREG_SCHEDULER_INTERVAL`` seconds, takes due rollout steps
  and starts due scheduled deployments (``run_scheduler_once``);
* ``cache-warmer``: renders the ``latest`` answers ahead (``api.warming.Warmer.run``), woken
  by catalogue changes; only where there is a cache to warm.

A pass that fails does not stop its loop: the failure is logged and the next pass, one
interval later, tries again. An ``Outage`` logs the first failure with its traceback, then
one line at most every ``REPEAT_EVERY`` seconds while it lasts (a database away for a minute
gives about eight lines, not four a second), and one line when a pass succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from mcpreg.api.cache import ResponseCache
from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.services import scheduler
from mcpreg.services.journal import current_generations

log = logging.getLogger("mcpreg.background")
cache_log = logging.getLogger("mcpreg.cache")
scheduler_log = logging.getLogger("mcpreg.scheduler")

WATCH_INTERVAL = 0.25  # seconds between two reads of the change generations
REPEAT_EVERY = 10.0  # seconds between two lines about one outage after its first

Loop = Callable[[Starlette], Coroutine[Any, Any, None]]


class Outage:
    """How one loop's failed passes are logged: the first in full, then briefly, then its end."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        meanwhile: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._what = what
        self._meanwhile = f"; {meanwhile}" if meanwhile else ""
        self._clock = clock
        self.failures = 0  # in a row
        self._since = 0.0
        self._logged = 0.0

    def failed(self, exc: Exception) -> None:
        now = self._clock()
        self.failures += 1
        if self.failures == 1:
            self._since = self._logged = now
            self._log.error("%s failed%s", self._what, self._meanwhile, exc_info=exc)
        elif now - self._logged >= REPEAT_EVERY:
            self._logged = now
            self._log.error(
                "%s failed again (%d failures in %.0f s): %s: %s",
                self._what,
                self.failures,
                now - self._since,
                type(exc).__name__,
                exc,
            )

    def succeeded(self) -> None:
        if self.failures:
            self._log.info(
                "%s works again, after %d failures in %.1f s",
                self._what,
                self.failures,
                self._clock() - self._since,
            )
            self.failures = 0


async def every(interval: float, work: Callable[[], Awaitable[None]], outage: Outage) -> None:
    """Run ``work`` forever, ``interval`` seconds apart; cancel the task to stop."""
    while True:
        try:
            await work()
        except Exception as exc:  # an outage, not the end: the next pass retries
            outage.failed(exc)
        else:
            outage.succeeded()
        await asyncio.sleep(interval)


async def watch_generation(engine: sa.Engine, cache: ResponseCache, interval: float) -> None:
    """Poll the change generations into ``cache``."""

    def read() -> tuple[int, int]:
        with unit_of_work(engine) as session:
            return current_generations(session)

    async def observe() -> None:
        cache.observe(*await run_in_threadpool(read))

    outage = Outage(cache_log, "reading the change generation", meanwhile="the cache keeps what it has")
    await every(interval, observe, outage)


async def schedule_rollouts(engine: sa.Engine, cache: ResponseCache, interval: float) -> None:
    """Take due rollout steps and start due scheduled deployments, one pass per ``interval``."""

    async def tick() -> None:
        report = await run_in_threadpool(run_scheduler_once, engine)
        if report.changed:
            cache.invalidate(catalogue=False)  # rollout steps and deployments
            scheduler_log.info(
                "scheduler: %d steps, %d deployments started, %d failed",
                report.steps,
                report.deployments,
                report.failed,
            )

    outage = Outage(scheduler_log, "the scheduler pass", meanwhile="the next pass retries")
    await every(interval, tick, outage)


def run_scheduler_once(engine: sa.Engine) -> scheduler.TickReport:
    """One pass: a cheap read first, so an idle replica never takes a write lock."""
    with unit_of_work(engine) as session:
        if not scheduler.due(session):
            return scheduler.TickReport()
    with unit_of_work(engine, write=True) as session:
        return scheduler.tick(session)


def _generation_watcher(app: Starlette) -> Coroutine[Any, Any, None]:
    rt = runtime(app)
    return watch_generation(rt.engine, rt.cache, WATCH_INTERVAL)


def _rollout_scheduler(app: Starlette) -> Coroutine[Any, Any, None]:
    rt = runtime(app)
    return schedule_rollouts(rt.engine, rt.cache, rt.settings.scheduler_interval)


def _cache_warmer(app: Starlette) -> Coroutine[Any, Any, None]:
    warmer = runtime(app).warmer
    if warmer is None:  # started only where the app built one (a cache and loops)
        raise RuntimeError("cache-warmer started without a warmer")
    return warmer.run()


LOOPS: Mapping[str, Loop] = {
    "generation-watcher": _generation_watcher,
    "rollout-scheduler": _rollout_scheduler,
    "cache-warmer": _cache_warmer,
}


@contextlib.asynccontextmanager
async def running(
    app: Starlette, names: Iterable[str], loops: Mapping[str, Loop] = LOOPS
) -> AsyncIterator[None]:
    """The named loops, each a task named after it, while the block runs; stopped on leaving."""
    tasks: list[asyncio.Task[None]] = []
    try:
        for name in names:
            task = asyncio.create_task(loops[name](app), name=name)
            task.add_done_callback(_ended)
            tasks.append(task)
        yield
    finally:
        await stop(tasks)


async def stop(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until each has finished; a loop that ended with an error
    (a bug: passes catch their own) raises it here."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            task.result()


def _ended(task: asyncio.Task[None]) -> None:
    """Log a loop that ended on its own when it ends, not only at shutdown."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("background loop %s ended; it is not restarted", task.get_name(), exc_info=exc)
