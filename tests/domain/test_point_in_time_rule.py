"""The point-in-time rule: a target ran what its last change at or before the moment left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.point_in_time import Change, last_changes, running_after, running_at

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def change(
    seq: int, minute: int, stable: str | None = "1.0.0", canary: str | None = None, weight: float = 0
) -> Change:
    return Change(
        "acme/a", "production", seq, T0 + timedelta(minutes=minute), "ops", "deploy", stable, canary, weight
    )


def test_a_canary_runs_only_while_it_takes_traffic() -> None:
    serving = running_after(change(1, 0, canary="1.1.0", weight=5))
    aborted = running_after(change(2, 1, canary="1.1.0", weight=0))
    assert serving is not None and (serving.canary, serving.weight) == ("1.1.0", 5)
    assert aborted is not None and (aborted.stable, aborted.canary, aborted.weight) == ("1.0.0", None, 0)


def test_nothing_ran_where_the_last_change_left_no_stable_version() -> None:
    assert running_after(change(1, 0, stable=None)) is None
    assert running_at([change(1, 5)], T0) == []


def test_the_last_change_is_the_highest_seq_even_when_its_clock_time_is_earlier() -> None:
    # Two writers on one target: the second to commit read its clock first.
    first, second = change(1, 2, stable="1.0.0"), change(2, 1, stable="1.1.0")
    assert last_changes([second, first], T0 + timedelta(minutes=3)) == {("acme/a", "production"): second}
    assert last_changes([first, second], T0 + timedelta(minutes=1)) == {("acme/a", "production"): second}


changes = st.lists(
    st.builds(
        Change,
        server=st.sampled_from(["acme/a", "acme/b"]),
        environment=st.sampled_from(["dev", "production"]),
        seq=st.integers(1, 50),
        at=st.integers(0, 60).map(lambda m: T0 + timedelta(minutes=m)),
        actor=st.just("ops"),
        action=st.just("deploy"),
        stable=st.sampled_from([None, "1.0.0", "1.1.0"]),
        canary=st.sampled_from([None, "2.0.0"]),
        weight=st.sampled_from([0.0, 5.0, 50.0]),
    ),
    max_size=30,
)


@given(changes, st.integers(-1, 61))
def test_each_target_runs_what_its_newest_change_by_then_left(history: list[Change], minute: int) -> None:
    moment = T0 + timedelta(minutes=minute)
    expected = []
    for key in sorted({(c.environment, c.server) for c in history}):
        before = [c for c in history if (c.environment, c.server) == key and c.at <= moment]
        if before:
            found = running_after(max(before, key=lambda c: c.seq))
            if found is not None:
                expected.append(found)
    assert running_at(history, moment) == expected
