"""Background work (``api.background``): named loops that log their failures and keep going.

Every wait here is on a condition, bounded by ``asyncio.wait_for``; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from mcpreg.api import background
from mcpreg.api.app import create_app
from mcpreg.api.background import LOOPS, Outage, every, running, schedule_rollouts, watch_generation
from mcpreg.api.fastpath.cache import ResponseCache
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS

BOUND = 10.0  # seconds any one wait may take before the test fails
log = logging.getLogger("tests.background")


def bounded(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, BOUND))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Records(logging.Handler):
    """Collects one logger's records and wakes a waiter once it has ``wanted`` of them."""

    def __init__(self, wanted: int) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.wanted = wanted
        self.enough = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if len(self.records) >= self.wanted:
            self.enough.set()


def test_a_pass_that_raises_is_logged_with_its_traceback_and_the_next_pass_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    passes = 0
    second = asyncio.Event()

    async def work() -> None:
        nonlocal passes
        passes += 1
        if passes == 1:
            raise RuntimeError("the database is away")
        second.set()

    async def scenario() -> None:
        task = asyncio.create_task(every(0, work, Outage(log, "the test pass")))
        await second.wait()
        task.cancel()
        await asyncio.wait([task])
        assert task.cancelled()

    with caplog.at_level(logging.INFO, logger="tests.background"):
        bounded(scenario())
    failed, recovered = caplog.records
    assert failed.levelno == logging.ERROR and failed.exc_info is not None
    assert "Traceback (most recent call last)" in caplog.text and "the database is away" in caplog.text
    assert recovered.levelno == logging.INFO and recovered.exc_info is None
    assert passes >= 2


def test_an_outage_logs_the_first_failure_in_full_then_one_line_per_repeat_interval_then_the_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    outage = Outage(log, "the test pass", clock=clock)
    with caplog.at_level(logging.INFO, logger="tests.background"):
        for _ in range(3):  # four passes a second, as the generation watcher polls
            outage.failed(ValueError("first"))
            clock.now += 0.25
        clock.now += background.REPEAT_EVERY
        outage.failed(ValueError("still"))
        outage.failed(ValueError("again"))  # within REPEAT_EVERY of the last line: counted, not logged
        outage.succeeded()
        outage.succeeded()  # nothing to report any more
        outage.failed(ValueError("a new outage"))
    lines = [(r.levelno, r.exc_info is not None) for r in caplog.records]
    assert lines == [
        (logging.ERROR, True),
        (logging.ERROR, False),
        (logging.INFO, False),
        (logging.ERROR, True),
    ]
    assert "still" in caplog.records[1].getMessage() and "4 failures" in caplog.records[1].getMessage()
    assert "5 failures" in caplog.records[2].getMessage()


@pytest.mark.parametrize(
    ("loop", "logger_name"),
    [("generation-watcher", "mcpreg.cache"), ("rollout-scheduler", "mcpreg.scheduler")],
)
def test_the_polling_loops_log_a_database_outage_and_keep_polling(
    loop: str, logger_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(background, "REPEAT_EVERY", 0)  # a line for every failed pass
    engine = sa.create_engine("sqlite://")  # no tables: every pass fails
    cache = ResponseCache()
    poll: Callable[[], Awaitable[None]] = {
        "generation-watcher": lambda: watch_generation(engine, cache, 0),
        "rollout-scheduler": lambda: schedule_rollouts(engine, cache, 0),
    }[loop]
    records = Records(wanted=3)
    logger = logging.getLogger(logger_name)
    logger.addHandler(records)

    async def scenario() -> None:
        task = asyncio.create_task(poll())
        await records.enough.wait()
        task.cancel()
        await asyncio.wait([task])

    try:
        bounded(scenario())
    finally:
        logger.removeHandler(records)
    first, *further = records.records
    assert first.exc_info is not None and "no such table" in str(first.exc_info[1])
    assert further and all(r.exc_info is None and r.levelno == logging.ERROR for r in further)
    engine.dispose()


def test_leaving_running_cancels_every_loop_and_waits_until_each_has_stopped() -> None:
    started = {"a": asyncio.Event(), "b": asyncio.Event()}
    stopped: list[str] = []

    def forever(name: str) -> Callable[[Starlette], Coroutine[Any, Any, None]]:
        async def loop(_app: Starlette) -> None:
            started[name].set()
            try:
                await asyncio.Event().wait()
            finally:
                stopped.append(name)

        return loop

    async def scenario() -> None:
        loops = {"a": forever("a"), "b": forever("b")}
        async with running(Starlette(), ["a", "b"], loops):
            await started["a"].wait()
            await started["b"].wait()
            assert {"a", "b"} <= {t.get_name() for t in asyncio.all_tasks()}
        assert sorted(stopped) == ["a", "b"]
        assert not {"a", "b"} & {t.get_name() for t in asyncio.all_tasks()}

    bounded(scenario())


def test_a_loop_that_ends_with_an_error_is_logged_when_it_ends_and_raised_at_stop() -> None:
    async def broken(_app: Starlette) -> None:
        raise LookupError("a bug, not an outage")

    records = Records(wanted=1)
    logger = logging.getLogger("mcpreg.background")
    logger.addHandler(records)

    async def scenario() -> None:
        async with running(Starlette(), ["broken"], {"broken": broken}):
            await records.enough.wait()  # logged when it ended, not only at shutdown

    try:
        with pytest.raises(LookupError):
            bounded(scenario())
    finally:
        logger.removeHandler(records)
    (ended,) = records.records
    assert ended.exc_info is not None and isinstance(ended.exc_info[1], LookupError)
    assert "broken" in ended.getMessage()


def test_an_unknown_loop_name_is_refused_at_start() -> None:
    async def scenario() -> None:
        async with running(Starlette(), ["no-such-loop"]):
            raise AssertionError("started")

    with pytest.raises(KeyError, match="no-such-loop"):
        bounded(scenario())


@pytest.mark.parametrize(
    ("background_work", "extra_env", "expected"),
    [
        (
            True,
            {},
            {
                "generation-watcher",
                "rollout-scheduler",
                "traffic-flusher",
                "cache-warmer",
                "mirror-sync",
                "health-prober",
                "canary-analysis",
                "gate-runner",
                "alerts",
            },
        ),
        # Nothing to warm:
        (
            True,
            {"MCPREG_CACHE_BYTES": "0"},
            {
                "generation-watcher",
                "rollout-scheduler",
                "traffic-flusher",
                "mirror-sync",
                "health-prober",
                "canary-analysis",
                "gate-runner",
                "alerts",
            },
        ),
        # Nothing POSTed to gates' and alerts' URLs:
        (
            True,
            {"MCPREG_WEBHOOKS": "0"},
            {
                "generation-watcher",
                "rollout-scheduler",
                "traffic-flusher",
                "cache-warmer",
                "mirror-sync",
                "health-prober",
                "canary-analysis",
            },
        ),
        (False, {}, set()),
    ],
)
def test_the_lifespan_starts_exactly_the_named_loops_and_stops_them(
    database_url: str,
    tmp_path: Path,
    engine: sa.Engine,
    background_work: bool,
    extra_env: dict[str, str],
    expected: set[str],
) -> None:
    env = {
        "MCPREG_DATABASE_URL": database_url,
        "MCPREG_DATA_DIR": str(tmp_path / "data"),
        "MCPREG_SAMPLE_DATA": "0",
        "MCPREG_DEV": "1",
        "MCPREG_SECRET_KEYS": TEST_KEYS,
    }
    app = create_app(Settings.from_env(env | extra_env), engine, prepare=False, background=background_work)

    def loops_running() -> set[str]:
        return {t.get_name() for t in asyncio.all_tasks() if not t.done()} & set(LOOPS)

    async def scenario() -> None:
        async with app.router.lifespan_context(app):
            assert loops_running() == expected
        assert loops_running() == set()

    bounded(scenario())
