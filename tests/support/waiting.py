"""Bounded waits on a condition, instead of sleeping a fixed time and hoping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL = 0.02  # seconds between two looks at the condition


def wait_until(
    predicate: Callable[[], T], timeout: float = 10.0, what: str = "the condition", every: float = POLL
) -> T:
    """Return ``predicate()``'s first truthy value; fail with ``what`` after ``timeout`` seconds.

    The predicate is asked at once, then every ``every`` seconds; the wait ends as soon as it
    holds, so a fast machine waits no longer than the work takes and a loaded one has room.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(every)


class Stopwatch:
    """Measures one latency for a report; ``elapsed`` is seconds since it started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started
