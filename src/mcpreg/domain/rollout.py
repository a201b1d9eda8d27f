"""Rollout plans and the pure state machine that walks them.

A plan is a tuple of ``Step``: a canary weight (percent of clients, ``0 < w <= 100``)
and what to wait for before the next step, a ``TimedPause`` or a ``ManualPause``
(wait for a promote). Plan rules, checked by ``plan``:

* at least one step, at most ``MAX_STEPS``; weights strictly increase;
* every step below 100% has a pause (a forgotten pause is refused, not guessed);
* a 100% step is the last one and has no pause: reaching it completes the rollout;
* when the last step is below 100%, an implicit final ``Step(100)`` is appended,
  so ``"5:10m,25:manual"`` means ``"5:10m,25:manual,100"``.

``canary_plan(w)`` is the fixed-weight canary strategy: ``(Step(w, MANUAL), Step(100))``.

The state machine is pure: each transition takes a ``RolloutState`` and ``now``
and returns a new state. Every transition first applies ``tick(state, now)``, so it
acts on the rollout as it stands at ``now``. ``tick`` is the clock: it is a no-op
unless the rollout is progressing through a timed pause, and otherwise advances as
far as time allows, each step starting at the previous step's deadline (not at
``now``), so ticking late or often gives the same result. Statuses:

* ``progressing``: counting down a timed pause (``next_step_at`` is set);
* ``paused_manual``: waiting at a manual step for a promote;
* ``paused``: an operator paused the countdown; ``paused_remaining`` seconds are
  left and restart from the resume;
* ``completed``: weight 100, the canary is the new stable;
* ``aborted``: rolled back, weight 0 (everyone on stable).

Refused transitions raise ``Conflict`` with code ``rollout_not_active`` (completed
or aborted), ``rollout_already_paused`` or ``rollout_not_paused``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from mcpreg.errors import Conflict, ValidationFailed

MAX_STEPS = 100
MAX_PAUSE_SECONDS = 365 * 24 * 3600
"""One year: longer pauses are surely typos, and keep date arithmetic in range."""

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
_DURATION = re.compile(r"(?:([0-9]{1,6})d)?(?:([0-9]{1,7})h)?(?:([0-9]{1,9})m)?(?:([0-9]{1,10})s)?")
_SECONDS = re.compile(r"[0-9]{1,12}")
_WEIGHT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,6})?")
_DURATION_RULE = "a duration like 30s, 10m, 2h, 1d, 1h30m or whole seconds"

Status = Literal["progressing", "paused_manual", "paused", "completed", "aborted"]
ACTIVE: frozenset[Status] = frozenset({"progressing", "paused_manual", "paused"})


@dataclass(frozen=True)
class TimedPause:
    """Wait ``seconds`` at this step, then move on."""

    seconds: int

    def __post_init__(self) -> None:
        _check_pause_seconds(self.seconds, "pause")


@dataclass(frozen=True)
class ManualPause:
    """Wait at this step until someone promotes the rollout."""


MANUAL = ManualPause()
Pause = TimedPause | ManualPause


@dataclass(frozen=True)
class Step:
    """Send ``weight`` percent of clients to the canary, then wait for ``pause``."""

    weight: float
    pause: Pause | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _check_weight(self.weight, "weight"))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape ``parse_steps`` reads back."""
        weight = int(self.weight) if self.weight.is_integer() else self.weight
        body: dict[str, Any] = {"weight": weight}
        if isinstance(self.pause, ManualPause):
            body["pause"] = "manual"
        elif isinstance(self.pause, TimedPause):
            body["pause"] = format_duration(self.pause.seconds)
        return body


# -- parsing ---------------------------------------------------------------------------------------


def parse_duration(value: str | int, *, field: str = "duration") -> int:
    """Seconds in ``30s``, ``10m``, ``2h``, ``1d``, ``1h30m`` or ``"600"``; units in that order, once each."""
    if isinstance(value, bool):
        raise ValidationFailed(f"must be {_DURATION_RULE}", field=field)
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        text = value.strip()
        match = _DURATION.fullmatch(text)
        if _SECONDS.fullmatch(text):
            seconds = int(text)
        elif text and match:
            seconds = sum(
                int(amount) * unit for amount, (_, unit) in zip(match.groups(), _UNITS, strict=True) if amount
            )
        else:
            raise ValidationFailed(f"must be {_DURATION_RULE}", field=field)
    else:
        raise ValidationFailed(f"must be {_DURATION_RULE}", field=field)
    if not 0 <= seconds <= MAX_PAUSE_SECONDS:
        raise ValidationFailed(f"must be between 0 seconds and {MAX_PAUSE_SECONDS} seconds", field=field)
    return seconds


def format_duration(seconds: int) -> str:
    """The shortest ``1d2h3m4s`` spelling of ``seconds`` (``0s`` for zero)."""
    parts = []
    for suffix, unit in _UNITS:
        amount, seconds = divmod(seconds, unit)
        if amount:
            parts.append(f"{amount}{suffix}")
    return "".join(parts) or "0s"


def parse_steps(value: Sequence[Mapping[str, Any]] | str) -> tuple[Step, ...]:
    """A plan from JSON ``[{"weight": 5, "pause": "10m"}, ...]`` or CLI ``"5:10m,25:manual,100"``."""
    if isinstance(value, str):
        items = value.split(",") if value.strip() else []
        steps = [_cli_step(i, item) for i, item in enumerate(items)]
    elif isinstance(value, list | tuple):
        steps = [_json_step(i, item) for i, item in enumerate(value)]
    else:
        raise ValidationFailed(
            'steps must be a list of {"weight", "pause"} objects or a "weight:pause,..." string',
            field="steps",
        )
    return plan(steps)


def _json_step(i: int, item: object) -> Step:
    if not isinstance(item, Mapping):
        raise ValidationFailed('a step must be an object {"weight", "pause"}', field=f"steps[{i}]")
    unknown = sorted(str(key) for key in item if key not in ("weight", "pause"))
    if unknown:
        raise ValidationFailed(
            f"unknown step key {unknown[0]!r}; a step has weight and pause", field=f"steps[{i}]"
        )
    if "weight" not in item:
        raise ValidationFailed("a step needs a weight", field=f"steps[{i}].weight")
    weight = _check_weight(item["weight"], f"steps[{i}].weight")
    return Step(weight, _parse_pause(item.get("pause"), f"steps[{i}].pause"))


def _cli_step(i: int, item: str) -> Step:
    weight_text, _, pause_text = item.strip().partition(":")
    if not _WEIGHT.fullmatch(weight_text):
        raise ValidationFailed(
            "a step is weight[:pause], the weight a number like 5 or 2.5", field=f"steps[{i}].weight"
        )
    weight = _check_weight(float(weight_text), f"steps[{i}].weight")
    pause = _parse_pause(pause_text, f"steps[{i}].pause") if ":" in item else None
    return Step(weight, pause)


def _parse_pause(value: object, field: str) -> Pause | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "manual":
        return MANUAL
    if not isinstance(value, str | int):
        raise ValidationFailed(f'a pause is "manual" or {_DURATION_RULE}', field=field)
    seconds = parse_duration(value, field=field)
    _check_pause_seconds(seconds, field)
    return TimedPause(seconds)


def _check_weight(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationFailed("weight must be a number (a percentage)", field=field)
    if not 0 < value <= 100:
        raise ValidationFailed("weight must be above 0 and at most 100", field=field)
    return float(value)


def _check_pause_seconds(seconds: object, field: str) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= MAX_PAUSE_SECONDS:
        raise ValidationFailed(f"a timed pause lasts 1 to {MAX_PAUSE_SECONDS} seconds", field=field)


# -- plans -----------------------------------------------------------------------------------------


def plan(steps: Sequence[Step]) -> tuple[Step, ...]:
    """Check ``steps`` against the plan rules; append the implicit final 100% step when missing."""
    if not steps:
        raise ValidationFailed("a rollout needs at least one step", field="steps")
    if len(steps) > MAX_STEPS:
        raise ValidationFailed(f"a rollout has at most {MAX_STEPS} steps", field="steps")
    for i, step in enumerate(steps):
        if i and step.weight <= steps[i - 1].weight:
            raise ValidationFailed("weights must strictly increase", field=f"steps[{i}].weight")
        if step.weight < 100 and step.pause is None:
            raise ValidationFailed(
                'a step below 100% needs a pause: a duration or "manual"', field=f"steps[{i}].pause"
            )
        if step.weight == 100 and step.pause is not None:
            raise ValidationFailed(
                "the 100% step completes the rollout and cannot pause", field=f"steps[{i}].pause"
            )
    if steps[-1].weight < 100:
        return (*steps, Step(100.0))
    return tuple(steps)


def canary_plan(weight: float) -> tuple[Step, ...]:
    """The fixed-weight canary: hold ``weight`` percent until promoted, then go to 100."""
    checked = _check_weight(weight, "weight")
    if checked >= 100:
        raise ValidationFailed("a canary weight is below 100", field="weight")
    return plan([Step(checked, MANUAL)])


# -- state machine ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RolloutState:
    """Where a rollout stands: at ``steps[index]``, sending ``weight`` percent to the canary."""

    steps: tuple[Step, ...]
    index: int
    weight: float
    status: Status
    step_started_at: datetime
    next_step_at: datetime | None = None
    paused_remaining: float | None = None

    @property
    def active(self) -> bool:
        """Not completed nor aborted."""
        return self.status in ACTIVE


def start(steps: Sequence[Step], now: datetime) -> RolloutState:
    """A rollout at its first step, started at ``now`` (use timezone-aware datetimes)."""
    return _enter(plan(steps), 0, now)


def tick(state: RolloutState, now: datetime) -> RolloutState:
    """Advance through every timed pause that has elapsed by ``now``; a no-op otherwise."""
    while state.status == "progressing" and state.next_step_at is not None and state.next_step_at <= now:
        state = _enter(state.steps, state.index + 1, state.next_step_at)
    return state


def promote(state: RolloutState, now: datetime, *, full: bool = False) -> RolloutState:
    """Go to the next step now (to 100% with ``full``), whatever the rollout waited for."""
    state = _require_active(tick(state, now), "promote")
    return _enter(state.steps, len(state.steps) - 1 if full else state.index + 1, now)


def pause(state: RolloutState, now: datetime) -> RolloutState:
    """Stop the countdown of a timed pause, keeping the time left for ``resume``."""
    state = _require_active(tick(state, now), "pause")
    if state.status != "progressing" or state.next_step_at is None:
        raise Conflict(f"the rollout is already {state.status}", code="rollout_already_paused")
    remaining = max(0.0, (state.next_step_at - now).total_seconds())
    return replace(state, status="paused", next_step_at=None, paused_remaining=remaining)


def resume(state: RolloutState, now: datetime) -> RolloutState:
    """Restart a paused countdown with the time it had left."""
    state = _require_active(state, "resume")
    if state.status != "paused":
        hint = "; promote it to continue" if state.status == "paused_manual" else ""
        raise Conflict(f"the rollout is {state.status}, not paused{hint}", code="rollout_not_paused")
    remaining = state.paused_remaining or 0.0
    return replace(
        state, status="progressing", next_step_at=now + timedelta(seconds=remaining), paused_remaining=None
    )


def abort(state: RolloutState, now: datetime) -> RolloutState:
    """Roll back: every client goes to stable (weight 0); the step reached is kept."""
    state = _require_active(tick(state, now), "abort")
    return replace(state, status="aborted", weight=0.0, next_step_at=None, paused_remaining=None)


def _enter(steps: tuple[Step, ...], index: int, at: datetime) -> RolloutState:
    step = steps[index]
    if step.weight >= 100:
        return RolloutState(steps, index, step.weight, "completed", at)
    if isinstance(step.pause, TimedPause):
        deadline = at + timedelta(seconds=step.pause.seconds)
        return RolloutState(steps, index, step.weight, "progressing", at, next_step_at=deadline)
    return RolloutState(steps, index, step.weight, "paused_manual", at)


def _require_active(state: RolloutState, action: str) -> RolloutState:
    if not state.active:
        raise Conflict(f"cannot {action} a rollout that is {state.status}", code="rollout_not_active")
    return state
