"""The promotion gates' hook: run a test set for a gate, store the run, answer its outcome.

``run_for_gate`` blocks until the run is stored (at most the set's ``timeoutSeconds`` times
its cases, plus one); call it outside any database transaction. It works from a worker
thread or from a thread with no event loop; called on a thread that runs an event loop, it
runs the set on a thread of its own so that loop is never re-entered.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import sqlalchemy as sa

from mcpreg.crypto import KeyRing
from mcpreg.domain.gates import GateOutcome
from mcpreg.errors import RegistryError
from mcpreg.services.testsets.runner import run_testset
from mcpreg.services.testsets.runs import PASS, Run
from mcpreg.settings import Settings

T = TypeVar("T")
GATE = "gate"


def _blocking(work: Callable[[], Awaitable[T]]) -> T:
    """``work()`` run to its end from synchronous code, whatever this thread is."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(work)
    found: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            found.append(anyio.run(work))
        except BaseException as exc:  # handed to the caller below
            failed.append(exc)

    thread = threading.Thread(target=run, name="testset-gate", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return found[0]


def gate_outcome(run: Run) -> GateOutcome:
    return GateOutcome(run.result == PASS, run.detail, run.id, list(run.failing))


def run_for_gate(
    engine: sa.Engine,
    keyring: KeyRing,
    settings: Settings,
    *,
    server: str,
    environment: str,
    version: str,
    testset: str,
) -> GateOutcome:
    """Run ``testset`` of ``server`` on ``version`` in ``environment``; passed when every case did.

    ``detail`` names the first failing case and why; ``failing`` every case that did not
    pass. A set, server, version or environment that does not exist is a failed outcome
    with no run (``run_id`` None) whose detail says so.
    """

    async def work() -> Run:
        return await run_testset(
            engine,
            keyring,
            settings,
            server=server,
            environment=environment,
            testset=testset,
            version=version,
            started_by=GATE,
            trigger="gate",
        )

    try:
        return gate_outcome(_blocking(work))
    except RegistryError as exc:
        return GateOutcome(False, f"test set {testset!r} could not run: {exc.detail}", None, [])
