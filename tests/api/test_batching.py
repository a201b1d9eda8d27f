"""Concurrent misses of one kind share one fetch on one worker thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mcpreg.api.fastpath.coalescer import Coalescer


def test_keys_asked_for_while_a_fetch_runs_go_together_into_the_next_one() -> None:
    calls: list[list[str]] = []
    started, release = threading.Event(), threading.Event()

    def fetch(keys: list[str]) -> dict[str, str]:
        calls.append(keys)
        started.set()
        if len(calls) == 1:
            assert release.wait(10), "the first fetch was never released"
        return {key: key.upper() for key in keys if key != "missing"}

    async def scenario() -> list[str | None]:
        coalescer: Coalescer[str, str] = Coalescer(fetch)
        first = asyncio.create_task(coalescer.get("a"))
        # Bounded: the first fetch is running on its thread (and holds until released).
        assert await asyncio.to_thread(started.wait, 10), "the first fetch never started"
        others = [asyncio.create_task(coalescer.get(k)) for k in ("b", "c", "b", "missing")]
        await asyncio.sleep(0)
        release.set()
        return [await first, *[await t for t in others]]

    assert asyncio.run(scenario()) == ["A", "B", "C", "B", None]
    assert calls == [["a"], ["b", "c", "missing"]]


def test_a_failed_fetch_reaches_every_request_of_its_batch_and_the_next_one_runs() -> None:
    attempts: list[list[str]] = []

    def fetch(keys: list[str]) -> dict[str, str]:
        attempts.append(keys)
        if len(attempts) == 1:
            raise RuntimeError("database went away")
        return {key: key for key in keys}

    async def scenario() -> None:
        coalescer: Coalescer[str, str] = Coalescer(fetch)
        failed = await asyncio.gather(coalescer.get("a"), coalescer.get("b"), return_exceptions=True)
        assert all(isinstance(f, RuntimeError) for f in failed)
        assert await coalescer.get("c") == "c"

    asyncio.run(scenario())
    assert attempts == [["a", "b"], ["c"]]


def test_a_request_that_goes_away_does_not_cancel_the_answer_others_wait_for() -> None:
    release = threading.Event()

    def fetch(keys: list[str]) -> dict[str, int]:
        assert release.wait(10)
        return dict.fromkeys(keys, 1)

    async def scenario() -> int | None:
        coalescer: Coalescer[str, int] = Coalescer(fetch)
        leaving = asyncio.create_task(coalescer.get("a"))
        staying = asyncio.create_task(coalescer.get("a"))
        await asyncio.sleep(0)
        leaving.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return await staying

    assert asyncio.run(scenario()) == 1
