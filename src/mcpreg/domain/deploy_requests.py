"""Reading deploy and promote request bodies into a checked ``DeployRequest`` or ``PromoteRequest``.

Every refusal names its field: ``strategy``, ``weight``, ``steps[1].pause``,
``scheduled_at``, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mcpreg.domain.analysis import Analysis, parse_analysis
from mcpreg.domain.gates import GateSpec, parse_gates
from mcpreg.domain.rollout import Step, canary_plan, parse_steps
from mcpreg.domain.storable import parse_time
from mcpreg.domain.timestamps import rfc3339
from mcpreg.errors import ScheduledInPast, ValidationFailed

STRATEGIES = ("immediate", "canary", "staged")
MAX_NOTES = 2000
_COMMON = {"strategy", "weight", "steps", "notes", "scheduled_at", "scheduledAt", "analysis", "gates"}
DEPLOY_FIELDS = frozenset({"server", "version", *_COMMON})
PROMOTE_FIELDS = frozenset({"from", "to", "force", *_COMMON})
CLOCK_SKEW = timedelta(seconds=5)
"""How far in the past a ``scheduled_at`` may lie (clock skew): it then deploys at once."""


@dataclass(frozen=True, kw_only=True)
class Plan:
    """How a deployment is applied. ``steps`` is the full plan (a canary is ``[weight:manual, 100]``)."""

    strategy: str = "immediate"
    steps: tuple[Step, ...] = ()
    notes: str | None = None
    scheduled_at: datetime | None = None
    scheduled_field: str = "scheduled_at"
    """The body key the time came in (``scheduled_at`` or ``scheduledAt``): refusals name it."""
    analysis: Analysis | None = None
    """The canary analysis of a staged or canary rollout (None: the environment's default)."""
    gates: tuple[GateSpec, ...] = ()
    """Gates of this deployment, on top of the environment's (``domain.gates``)."""


@dataclass(frozen=True, kw_only=True)
class DeployRequest(Plan):
    """Deploy ``version`` of ``server`` to an environment."""

    server: str
    version: str


@dataclass(frozen=True, kw_only=True)
class PromoteRequest(Plan):
    """Deploy to ``target`` (None: the next environment) what runs in ``source``."""

    source: str
    target: str | None = None
    force: bool = False


def _string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{key} is required: a non-empty string", field=key)
    return value.strip()


def _notes(body: dict[str, Any]) -> str | None:
    notes = body.get("notes")
    if notes is not None and (not isinstance(notes, str) or len(notes) > MAX_NOTES):
        raise ValidationFailed(f"notes is a string of at most {MAX_NOTES} characters", field="notes")
    return notes or None


def parse_notes(body: dict[str, Any], allowed: frozenset[str] = frozenset({"notes"})) -> str | None:
    """The optional ``notes`` of a body that carries nothing else of its own."""
    _refuse_unknown(body, allowed)
    return _notes(body)


def _refuse_unknown(body: dict[str, Any], allowed: frozenset[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ValidationFailed(f"unknown field {key!r}", field=key, code="unknown_field")


def parse_datetime(value: object, field: str) -> datetime:
    """An RFC 3339 date-time with a time zone, inside what the databases store."""
    return parse_time(value, field=field)


def _plan(body: dict[str, Any]) -> tuple[str, tuple[Step, ...]]:
    strategy = body.get("strategy", "immediate")
    if strategy not in STRATEGIES:
        raise ValidationFailed(
            f"strategy is one of {', '.join(STRATEGIES)}", field="strategy", code="invalid_strategy"
        )
    weight, steps = body.get("weight"), body.get("steps")
    if strategy != "canary" and weight is not None:
        raise ValidationFailed("weight is for the canary strategy; staged rollouts use steps", field="weight")
    if strategy != "staged" and steps is not None:
        raise ValidationFailed("steps are for the staged strategy", field="steps")
    if strategy == "canary":
        if weight is None:
            raise ValidationFailed("a canary needs a weight (percent of clients)", field="weight")
        return strategy, canary_plan(weight)
    if strategy == "staged":
        if steps is None:
            raise ValidationFailed("a staged rollout needs steps", field="steps")
        return strategy, parse_steps(steps)
    return strategy, ()


def _common(body: dict[str, Any], private_remotes: bool) -> dict[str, Any]:
    strategy, steps = _plan(body)
    key = "scheduledAt" if "scheduledAt" in body else "scheduled_at"
    raw = body.get(key)
    analysis, gates = body.get("analysis"), body.get("gates")
    if analysis is not None and strategy == "immediate":
        raise ValidationFailed("an analysis is for canary and staged rollouts", field="analysis")
    return {
        "analysis": None if analysis is None else parse_analysis(analysis),
        "gates": () if gates is None else parse_gates(gates, private_remotes=private_remotes),
        "strategy": strategy,
        "steps": steps,
        "notes": _notes(body),
        "scheduled_at": None if raw is None else parse_datetime(raw, key),
        "scheduled_field": key,
    }


def check_scheduled_at(at: datetime | None, now: datetime, field: str = "scheduled_at") -> None:
    """Refuse a time more than ``CLOCK_SKEW`` in the past: the moment it names is gone."""
    if at is not None and at < now - CLOCK_SKEW:
        raise ScheduledInPast(
            f"{field} {rfc3339(at)} is in the past; give a future time, or leave it out to deploy now",
            field=field,
        )


def parse_deploy(body: dict[str, Any], *, private_remotes: bool = False) -> DeployRequest:
    """``{server, version, strategy, weight | steps, notes, scheduled_at, analysis, gates}``."""
    _refuse_unknown(body, DEPLOY_FIELDS)
    return DeployRequest(
        server=_string(body, "server"), version=_string(body, "version"), **_common(body, private_remotes)
    )


def parse_promote(body: dict[str, Any], *, private_remotes: bool = False) -> PromoteRequest:
    """``{from, to, force, strategy, weight | steps, notes, scheduled_at, analysis, gates}``."""
    _refuse_unknown(body, PROMOTE_FIELDS)
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ValidationFailed("force must be true or false", field="force")
    return PromoteRequest(
        source=_string(body, "from"),
        target=None if body.get("to") is None else _string(body, "to"),
        force=force,
        **_common(body, private_remotes),
    )
