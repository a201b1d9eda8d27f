"""Rollout plans and their state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpreg.domain.rollout import (
    MANUAL,
    MAX_PAUSE_SECONDS,
    ManualPause,
    RolloutState,
    Step,
    TimedPause,
    abort,
    canary_plan,
    format_duration,
    parse_duration,
    parse_steps,
    pause,
    plan,
    promote,
    resume,
    start,
    tick,
)
from mcpreg.errors import Conflict, ValidationFailed

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
THREE_STEPS = (Step(5, TimedPause(600)), Step(25, MANUAL), Step(100))


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


# -- durations -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("600", 600),
        (" 5m ", 300),
        (90, 90),
    ],
)
def test_durations_parse_to_seconds(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "30m1h", "1.5h", "-5m", "10 m", "1w", "manual", "366d", "²"])
def test_malformed_durations_are_refused_with_the_field(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_duration(text, field="steps[0].pause")
    assert caught.value.code == "validation_failed"
    assert caught.value.field == "steps[0].pause"


@given(st.integers(0, MAX_PAUSE_SECONDS))
def test_a_formatted_duration_parses_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


# -- plans -----------------------------------------------------------------------------------------


def test_the_json_and_cli_shapes_give_the_same_plan() -> None:
    from_json = parse_steps(
        [{"weight": 5, "pause": "10m"}, {"weight": 25, "pause": "manual"}, {"weight": 100}]
    )
    assert from_json == parse_steps("5:10m, 25:manual, 100") == THREE_STEPS


def test_a_plan_ending_below_hundred_gets_an_implicit_final_step() -> None:
    assert parse_steps("2.5:30s,50:manual") == (Step(2.5, TimedPause(30)), Step(50, MANUAL), Step(100))


def test_steps_serialise_to_the_json_shape() -> None:
    assert [step.to_dict() for step in parse_steps("2.5:90m,25:manual")] == [
        {"weight": 2.5, "pause": "1h30m"},
        {"weight": 25, "pause": "manual"},
        {"weight": 100},
    ]


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ("", "steps"),
        ([], "steps"),
        ({"weight": 5}, "steps"),
        ("5:10m,5:10m", "steps[1].weight"),
        ("25:10m,5:10m", "steps[1].weight"),
        ("0:10m", "steps[0].weight"),
        ("101", "steps[0].weight"),
        ("five:10m", "steps[0].weight"),
        ("5:10m,,100", "steps[1].weight"),
        ("5:10m,25", "steps[1].pause"),
        ("5,100", "steps[0].pause"),
        ("5:10m,25:soon", "steps[1].pause"),
        ("5:0s", "steps[0].pause"),
        ("5:10m,100:1h", "steps[1].pause"),
        ("5:10m,100,100", "steps[2].weight"),
        ([{"weight": 5, "pause": "10m"}, {"pause": "manual"}], "steps[1].weight"),
        ([{"weight": "5", "pause": "10m"}], "steps[0].weight"),
        ([{"weight": True, "pause": "10m"}], "steps[0].weight"),
        ([{"weight": float("nan"), "pause": "10m"}], "steps[0].weight"),
        ([{"weight": 5, "pause": 1.5}], "steps[0].pause"),
        ([{"weight": 5, "pause": "10m", "note": "x"}], "steps[0]"),
        (["5:10m"], "steps[0]"),
    ],
)
def test_a_bad_plan_is_refused_with_the_offending_field(steps: Any, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_steps(steps)
    assert caught.value.code == "validation_failed"
    assert caught.value.field == field


def test_a_plan_has_at_most_a_hundred_steps() -> None:
    many = [Step(i / 10, TimedPause(1)) for i in range(1, 102)]
    with pytest.raises(ValidationFailed) as caught:
        plan(many)
    assert caught.value.field == "steps"


def test_a_canary_plan_waits_for_a_promote_then_goes_to_hundred() -> None:
    assert canary_plan(10) == (Step(10, MANUAL), Step(100))
    state = start(canary_plan(10), T0)
    assert (state.status, state.weight, state.next_step_at) == ("paused_manual", 10, None)
    assert tick(state, minutes(10_000)) == state
    done = promote(state, minutes(5))
    assert (done.status, done.weight, done.step_started_at) == ("completed", 100, minutes(5))


@pytest.mark.parametrize("weight", [0, 100, 150])
def test_a_canary_weight_must_be_between_zero_and_hundred(weight: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        canary_plan(weight)
    assert caught.value.field == "weight"


# -- transitions -----------------------------------------------------------------------------------


def test_starting_counts_down_the_first_timed_pause() -> None:
    state = start(THREE_STEPS, T0)
    assert state == RolloutState(THREE_STEPS, 0, 5.0, "progressing", T0, next_step_at=minutes(10))


def test_a_single_hundred_percent_step_completes_at_once() -> None:
    assert start([Step(100)], T0).status == "completed"


def test_tick_before_the_deadline_changes_nothing() -> None:
    state = start(THREE_STEPS, T0)
    assert tick(state, minutes(9.99)) == state


def test_tick_after_the_deadline_advances_and_stops_at_a_manual_step() -> None:
    state = tick(start(THREE_STEPS, T0), minutes(60))
    assert (state.index, state.weight, state.status) == (1, 25, "paused_manual")
    assert state.step_started_at == minutes(10)  # the deadline, not the tick


def test_a_far_overdue_tick_walks_every_elapsed_timed_step_from_each_deadline() -> None:
    steps = parse_steps("1:10m,5:10m,25:1h,50:1h")
    state = tick(start(steps, T0), minutes(70))
    assert (state.weight, state.step_started_at, state.next_step_at) == (25, minutes(20), minutes(80))
    assert state.status == "progressing"
    assert tick(start(steps, T0), minutes(140)).status == "completed"


def test_promote_moves_to_the_next_step_now() -> None:
    state = promote(start(THREE_STEPS, T0), minutes(3))
    assert (state.index, state.weight, state.status, state.step_started_at) == (
        1,
        25,
        "paused_manual",
        minutes(3),
    )


def test_full_promote_completes_the_rollout() -> None:
    state = promote(start(THREE_STEPS, T0), minutes(3), full=True)
    assert (state.status, state.weight, state.next_step_at) == ("completed", 100, None)


def test_pause_keeps_the_time_left_and_resume_restarts_it() -> None:
    paused = pause(start(THREE_STEPS, T0), minutes(4))
    assert (paused.status, paused.next_step_at, paused.paused_remaining) == ("paused", None, 360.0)
    assert tick(paused, minutes(1_000)) == paused
    resumed = resume(paused, minutes(100))
    assert (resumed.status, resumed.next_step_at, resumed.paused_remaining) == (
        "progressing",
        minutes(106),
        None,
    )
    assert tick(resumed, minutes(106)).weight == 25


def test_pause_after_an_unticked_deadline_pauses_the_step_reached() -> None:
    steps = parse_steps("1:10m,5:10m")
    paused = pause(start(steps, T0), minutes(15))
    assert (paused.weight, paused.paused_remaining) == (5, 300.0)


def test_promote_from_a_paused_countdown_moves_on() -> None:
    paused = pause(start(THREE_STEPS, T0), minutes(4))
    state = promote(paused, minutes(5))
    assert (state.weight, state.status, state.paused_remaining) == (25, "paused_manual", None)


def test_abort_sends_everyone_to_stable() -> None:
    state = abort(tick(start(THREE_STEPS, T0), minutes(11)), minutes(12))
    assert (state.status, state.weight, state.index, state.next_step_at) == ("aborted", 0, 1, None)


def test_abort_of_a_paused_rollout_clears_the_time_left() -> None:
    state = abort(pause(start(THREE_STEPS, T0), minutes(1)), minutes(2))
    assert (state.status, state.paused_remaining) == ("aborted", None)


def completed() -> RolloutState:
    return promote(start(THREE_STEPS, T0), T0, full=True)


def aborted() -> RolloutState:
    return abort(start(THREE_STEPS, T0), T0)


@pytest.mark.parametrize("finished", [completed, aborted])
@pytest.mark.parametrize("action", [promote, pause, resume, abort])
def test_a_finished_rollout_refuses_every_action(finished: Any, action: Any) -> None:
    with pytest.raises(Conflict) as caught:
        action(finished(), minutes(1))
    assert caught.value.code == "rollout_not_active"
    assert caught.value.status == 409


def test_an_action_after_an_unticked_completion_is_refused() -> None:
    with pytest.raises(Conflict) as caught:
        promote(start(parse_steps("5:10m"), T0), minutes(11))
    assert caught.value.code == "rollout_not_active"


def test_resuming_a_rollout_that_is_not_paused_is_refused() -> None:
    with pytest.raises(Conflict) as caught:
        resume(start(THREE_STEPS, T0), minutes(1))
    assert caught.value.code == "rollout_not_paused"


def test_resuming_a_manual_step_is_refused_in_favour_of_promote() -> None:
    with pytest.raises(Conflict) as caught:
        resume(start(canary_plan(5), T0), minutes(1))
    assert caught.value.code == "rollout_not_paused"


@pytest.mark.parametrize("state", [pause(start(THREE_STEPS, T0), T0), start(canary_plan(5), T0)])
def test_pausing_a_halted_rollout_is_refused(state: RolloutState) -> None:
    with pytest.raises(Conflict) as caught:
        pause(state, minutes(1))
    assert caught.value.code == "rollout_already_paused"


# -- properties ------------------------------------------------------------------------------------

pauses = st.one_of(st.integers(1, 7200).map(TimedPause), st.just(MANUAL))
plans = st.lists(
    st.tuples(st.integers(1, 99), pauses), min_size=1, max_size=6, unique_by=lambda wp: wp[0]
).map(lambda pairs: plan([Step(w, p) for w, p in sorted(pairs, key=lambda wp: wp[0])]))
offsets = st.lists(st.integers(0, 40_000), max_size=8).map(sorted)


@given(plans, offsets)
def test_tick_never_lowers_the_weight_and_completes_exactly_when_every_timed_pause_elapsed(
    steps: tuple[Step, ...], seconds: list[int]
) -> None:
    state = start(steps, T0)
    has_manual = any(isinstance(step.pause, ManualPause) for step in steps)
    total = sum(step.pause.seconds for step in steps if isinstance(step.pause, TimedPause))
    for offset in seconds:
        before = state.weight
        state = tick(state, T0 + timedelta(seconds=offset))
        assert state.weight >= before
        assert (state.weight == 100) == (not has_manual and offset >= total)
        assert (state.status == "completed") == (state.weight == 100)


@given(plans, offsets)
def test_ticking_often_or_once_gives_the_same_state(steps: tuple[Step, ...], seconds: list[int]) -> None:
    often = start(steps, T0)
    for offset in seconds:
        often = tick(often, T0 + timedelta(seconds=offset))
    end = T0 + timedelta(seconds=seconds[-1] if seconds else 0)
    assert often == tick(start(steps, T0), end)


@given(plans)
def test_a_plan_round_trips_through_its_json_shape(steps: tuple[Step, ...]) -> None:
    assert parse_steps([step.to_dict() for step in steps]) == steps
