"""A version's health from consecutive probe results (``domain.health``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.health import DEGRADED, HEALTHY, UNHEALTHY, Thresholds, observe


def run(results: list[bool], thresholds: Thresholds = Thresholds()) -> list[str]:
    states, health = [], None
    for ok in results:
        health = observe(health, ok, thresholds)
        states.append(health.state)
    return states


def test_failures_degrade_then_make_unhealthy_and_successes_recover() -> None:
    assert run([True, False, False, False, True, True]) == [
        HEALTHY,
        DEGRADED,
        DEGRADED,
        UNHEALTHY,
        UNHEALTHY,
        HEALTHY,
    ]


def test_one_good_probe_between_failures_does_not_heal_an_unhealthy_version() -> None:
    assert run([False, False, False, True, False]) == [DEGRADED, DEGRADED, UNHEALTHY, UNHEALTHY, UNHEALTHY]


def test_a_first_probe_decides_the_first_state() -> None:
    assert run([True]) == [HEALTHY]
    assert run([False]) == [DEGRADED]
    assert run([False], Thresholds(unhealthy_after=1)) == [UNHEALTHY]


@given(st.lists(st.booleans(), min_size=1, max_size=60))
def test_the_state_follows_the_latest_run_of_results(results: list[bool]) -> None:
    thresholds = Thresholds(unhealthy_after=3, healthy_after=2)
    final = run(results, thresholds)[-1]
    tail_ok = len(results) - max((i for i, ok in enumerate(results) if not ok), default=-1) - 1
    tail_bad = len(results) - max((i for i, ok in enumerate(results) if ok), default=-1) - 1
    if tail_bad >= 3:
        assert final == UNHEALTHY
    if tail_ok >= 2 or all(results):
        assert final == HEALTHY
    if final == UNHEALTHY:
        assert not results[-1] or tail_ok < 2
