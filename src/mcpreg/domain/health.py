"""Health of a deployed version, from consecutive probe results.

A version's state is ``healthy``, ``degraded`` or ``unhealthy``. A probe that fails makes
a healthy version ``degraded``, and ``UNHEALTHY_AFTER`` failures in a row make it
``unhealthy``; ``HEALTHY_AFTER`` successes in a row make a degraded or unhealthy version
``healthy`` again. A version never probed has no state (None): it is not reported
unhealthy before anything was seen.
"""

from __future__ import annotations

from dataclasses import dataclass

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
STATES = (HEALTHY, DEGRADED, UNHEALTHY)


@dataclass(frozen=True)
class Thresholds:
    unhealthy_after: int = 3  # consecutive failures
    healthy_after: int = 2  # consecutive successes, from degraded or unhealthy


@dataclass(frozen=True)
class Health:
    state: str
    failures: int = 0  # consecutive
    successes: int = 0  # consecutive


def observe(health: Health | None, ok: bool, thresholds: Thresholds = Thresholds()) -> Health:
    """The health after one more probe result."""
    if ok:
        successes = (health.successes if health else 0) + 1
        if health is None or health.state == HEALTHY or successes >= thresholds.healthy_after:
            return Health(HEALTHY, 0, successes)
        return Health(health.state, 0, successes)
    failures = (health.failures if health else 0) + 1
    if failures >= thresholds.unhealthy_after or (health is not None and health.state == UNHEALTHY):
        return Health(UNHEALTHY, failures, 0)
    return Health(DEGRADED, failures, 0)
