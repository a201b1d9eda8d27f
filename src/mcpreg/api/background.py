"""Background work: the loops a replica runs beside its requests, started and stopped by name.

The app's lifespan starts them (``running``) when it was built with ``background=True``,
once the database is prepared, and stops them on shutdown (cancelled, then awaited):

* ``generation-watcher``: every ``WATCH_INTERVAL`` seconds, reads the change generations and
  hands them to the response cache (``ResponseCache.observe``), so a change made through
  another replica is served here within one poll;
* ``rollout-scheduler``: every ``MCPREG_SCHEDULER_INTERVAL`` seconds, takes due rollout steps
  and starts due scheduled deployments (``run_scheduler_once``);
* ``cache-warmer``: renders the ``latest`` answers ahead (``api.fastpath.warming.Warmer.run``), woken
  by catalogue changes; only where there is a cache to warm.
* ``mirror-sync``: every ``MCPREG_MIRROR_POLL`` seconds, syncs each upstream whose interval
  has passed (``services.mirror.sync.sync_due``), on one replica at a time by the upstream's
  lease; on shutdown the sync ends after its current page and gives its lease up.
* ``health-prober``: every ``MCPREG_HEALTH_INTERVAL`` seconds, on the replica holding the
  prober's lease, checks every deployed version with the MCP client (``gateway.prober``);
  on shutdown it gives the lease up.
* ``canary-analysis``: every ``MCPREG_ANALYSIS_POLL`` seconds, judges the ended intervals
  of rollouts with an analysis and aborts or pauses them past their limits
  (``services.analysis``); each interval is judged once across replicas.
* ``gate-runner``: every ``MCPREG_ANALYSIS_POLL`` seconds, runs the promotion gates that are
  due (webhooks, test sets) outside any transaction, stores each attempt, and applies the
  held deployments and takes the due steps whose gates passed (``services.gates.runner``);
  each attempt runs once across replicas.
* ``alerts``: every ``MCPREG_ANALYSIS_POLL`` seconds, fires and resolves the alert rules
  conditions and sends the due webhooks outside any transaction (``services.alerts``); a
  condition fires once and each attempt is sent once across replicas.
* ``traffic-flusher``: every ``MCPREG_TRAFFIC_FLUSH_INTERVAL`` seconds, writes what this
  replica's gateway counted to the database (``gateway.traffic.TrafficFlusher``), and once
  more on shutdown; a failed write keeps its counts for the next pass.

A pass that fails does not stop its loop: the failure is logged and the next pass, one
interval later, tries again. An ``Outage`` logs the first failure with its traceback, then
one line at most every ``REPEAT_EVERY`` seconds while it lasts (a database away for a minute
gives about eight lines, not four a second), and one line when a pass succeeds again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from mcpreg.api.fastpath.cache import ResponseCache
from mcpreg.api.runtime import runtime
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.alerts import ERROR_RATE_EVERY
from mcpreg.errors import RegistryError
from mcpreg.gateway.prober import Prober
from mcpreg.gateway.traffic import TrafficFlusher
from mcpreg.services import alerts, analysis
from mcpreg.services.deploy import clock as scheduler
from mcpreg.services.gates import runner as gate_runner
from mcpreg.services.journal import current_generations
from mcpreg.services.mirror import sync as mirror_sync

log = logging.getLogger("mcpreg.background")
health_log = logging.getLogger("mcpreg.health")
analysis_log = logging.getLogger("mcpreg.analysis")
alerts_log = logging.getLogger("mcpreg.alerts")
gates_log = logging.getLogger("mcpreg.gates")
cache_log = logging.getLogger("mcpreg.cache")
scheduler_log = logging.getLogger("mcpreg.scheduler")
mirror_log = logging.getLogger("mcpreg.mirror")
traffic_log = logging.getLogger("mcpreg.traffic")

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


async def flush_traffic(flusher: TrafficFlusher, interval: float) -> None:
    """Write the gateway's aggregates every ``interval`` seconds, and once more when stopped."""

    async def flush() -> None:
        await run_in_threadpool(flusher.flush)

    outage = Outage(traffic_log, "writing the gateway traffic", meanwhile="the counts wait for the next pass")
    try:
        await every(interval, flush, outage)
    finally:  # cancelled at shutdown: the last seconds are written too
        try:
            await run_in_threadpool(flusher.flush)
        except Exception:
            traffic_log.exception("the last write of the gateway traffic failed; its counts are lost")


async def sync_mirrors(app: Starlette) -> None:
    """Sync due upstreams, one pass per ``MCPREG_MIRROR_POLL`` seconds. A cancelled pass
    asks its sync to stop and waits for it (at most one page), so the lease is released."""
    rt = runtime(app)
    stopping = threading.Event()

    def failed(name: str, error: RegistryError) -> None:
        mirror_log.warning("sync of upstream %s failed: %s (recorded on its run)", name, error.code)

    def sync_pass() -> int:
        overlap = timedelta(seconds=rt.settings.mirror_overlap)
        return mirror_sync.sync_due(
            rt.engine,
            rt.keyring,
            overlap=overlap,
            stopping=stopping.is_set,
            on_failure=failed,
            private_remotes=rt.settings.allow_private_remotes,
        )

    async def tick() -> None:
        work = asyncio.ensure_future(run_in_threadpool(sync_pass))
        try:
            synced = await asyncio.shield(work)
        except asyncio.CancelledError:
            stopping.set()
            await asyncio.wait([work])
            raise
        if synced:
            rt.cache.invalidate()

    outage = Outage(mirror_log, "the mirror sync pass", meanwhile="the next pass retries")
    await every(rt.settings.mirror_poll, tick, outage)


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


def _traffic_flusher(app: Starlette) -> Coroutine[Any, Any, None]:
    rt = runtime(app)
    return flush_traffic(TrafficFlusher(rt.engine, rt.gateway_metrics), rt.settings.traffic_flush_interval)


async def probe_health(prober: Prober, cache: ResponseCache, interval: float) -> None:
    """One prober pass every ``interval`` seconds (on the lease holder); the lease is given
    up when the loop stops, so another replica takes the probing over at once. A pass that
    changed a state drops this replica's routing memos at once (other replicas see the
    change generation within one poll)."""

    async def tick() -> None:
        if await prober.run_once():
            cache.invalidate(catalogue=False)

    outage = Outage(health_log, "the health prober pass", meanwhile="the next pass retries")
    try:
        await every(interval, tick, outage)
    finally:
        try:
            await run_in_threadpool(prober.release)
        except Exception:
            health_log.exception("could not give the prober's lease up; it expires by itself")


async def analyse_canaries(engine: sa.Engine, cache: ResponseCache, interval: float, settle: float) -> None:
    """Judge the ended intervals of analysed rollouts and act on them, every ``interval`` s."""

    def analysis_pass() -> int:
        with unit_of_work(engine) as session:  # a read first: mid-interval, nothing is written
            if not analysis.due(session, settle=settle):
                return 0
        with unit_of_work(engine, write=True) as session:
            stored, acted = analysis.analyse(session, settle=settle)
        for done in acted:
            analysis_log.warning(
                "analysis: %s %s in %s: %s", done.action, done.server, done.environment, done.reason
            )
        return stored + len(acted)

    async def tick() -> None:
        if await run_in_threadpool(analysis_pass):
            cache.invalidate(catalogue=False)

    outage = Outage(analysis_log, "the canary analysis pass", meanwhile="the next pass retries")
    await every(interval, tick, outage)


def _canary_analysis(app: Starlette) -> Coroutine[Any, Any, None]:
    rt = runtime(app)
    settle = rt.settings.traffic_flush_interval + 1.0  # the interval's traffic reaches the database
    return analyse_canaries(rt.engine, rt.cache, rt.settings.analysis_poll, settle)


async def run_gates(app: Starlette) -> None:
    """Run the due promotion gates and let through what passed, every ``interval`` s."""
    rt = runtime(app)

    async def tick() -> None:
        report = await run_in_threadpool(gate_runner.run_once, rt.engine, rt.keyring, rt.settings)
        if report.changed:
            rt.cache.invalidate(catalogue=False)

    outage = Outage(gates_log, "the gate runner pass", meanwhile="the next pass retries")
    await every(rt.settings.analysis_poll, tick, outage)


async def run_alerts(app: Starlette) -> None:
    """Fire and resolve alerts and send their webhooks, every ``MCPREG_ANALYSIS_POLL`` s (the
    ``errorRate`` rules, which read their window's traffic, every ``ERROR_RATE_EVERY`` s)."""
    rt = runtime(app)
    judged = -ERROR_RATE_EVERY  # when this replica last judged the errorRate rules (monotonic)

    async def tick() -> None:
        nonlocal judged
        error_rates = time.monotonic() - judged >= ERROR_RATE_EVERY
        if error_rates:
            judged = time.monotonic()
        private = rt.settings.allow_private_remotes
        report = await run_in_threadpool(
            alerts.run_once, rt.engine, rt.keyring, error_rates=error_rates, private_remotes=private
        )
        if report.fired or report.resolved or report.failed:
            alerts_log.info(
                "alerts: %d fired, %d resolved, %d delivered, %d retrying, %d failed",
                report.fired,
                report.resolved,
                report.delivered,
                report.retrying,
                report.failed,
            )

    outage = Outage(alerts_log, "the alerts pass", meanwhile="the next pass retries")
    await every(rt.settings.analysis_poll, tick, outage)


def _health_prober(app: Starlette) -> Coroutine[Any, Any, None]:
    rt = runtime(app)
    return probe_health(Prober(rt.settings, rt.engine, rt.keyring), rt.cache, rt.settings.health_interval)


LOOPS: Mapping[str, Loop] = {
    "generation-watcher": _generation_watcher,
    "rollout-scheduler": _rollout_scheduler,
    "cache-warmer": _cache_warmer,
    "mirror-sync": sync_mirrors,
    "traffic-flusher": _traffic_flusher,
    "health-prober": _health_prober,
    "canary-analysis": _canary_analysis,
    "alerts": run_alerts,
    "gate-runner": run_gates,
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
