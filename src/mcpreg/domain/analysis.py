"""Automated canary analysis: checks over each interval of the canary's and stable's traffic.

An analysis is a list of checks. Every ``interval`` seconds of a rollout step each check
gives ``pass``, ``fail`` or ``inconclusive`` for that interval:

* ``errorRate``: the canary's error rate at most ``max`` (0.05 is 5%);
* ``p95``: the canary's p95 latency at most ``maxSeconds``;
* ``ratioToStable``: the canary's error rate at most ``factor`` times stable's plus
  ``plus`` ("at most 1.5x stable, plus 0.5 points": factor 1.5, plus 0.005);
* ``minRequests``: at least ``count`` canary requests.

Too few requests (under ``minRequests`` of the check, default 1) or no data is
``inconclusive``, never ``fail``: a canary without traffic is not a bad canary. Past a
check's ``failureLimit`` failed intervals the rollout aborts (the canary's weight to 0,
stable serving); past its ``inconclusiveLimit`` inconclusive ones it pauses for a human.
A rollout step with an analysis advances only once the latest interval of every check
passed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcpreg.domain.traffic import parse_window
from mcpreg.errors import ValidationFailed

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
KINDS = ("errorRate", "p95", "ratioToStable", "minRequests")
MAX_CHECKS = 20
DEFAULT_INTERVAL = 60.0
DEFAULT_FAILURE_LIMIT = 1
DEFAULT_INCONCLUSIVE_LIMIT = 3


@dataclass(frozen=True)
class Check:
    kind: str
    interval: float  # seconds
    failure_limit: int
    inconclusive_limit: int
    limit: float = 0.0  # max (errorRate), maxSeconds (p95), count (minRequests)
    factor: float = 1.0  # ratioToStable
    plus: float = 0.0  # ratioToStable
    min_requests: int = 1  # fewer canary requests in an interval: inconclusive

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": self.kind,
            "interval": self.interval,
            "failureLimit": self.failure_limit,
            "inconclusiveLimit": self.inconclusive_limit,
            "minRequests": self.min_requests,
        }
        if self.kind == "errorRate":
            body["max"] = self.limit
        elif self.kind == "p95":
            body["maxSeconds"] = self.limit
        elif self.kind == "minRequests":
            body["count"] = int(self.limit)
        else:
            body["factor"], body["plus"] = self.factor, self.plus
        return body


@dataclass(frozen=True)
class Analysis:
    checks: tuple[Check, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"checks": [c.to_dict() for c in self.checks]}


@dataclass(frozen=True)
class Sample:
    """What one track served in one interval."""

    requests: int = 0
    errors: int = 0
    p95: float | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


def _number(
    body: dict[str, Any], key: str, field: str, *, low: float, high: float, default: float | None
) -> float:
    value = body.get(key, default)
    if value is None:
        raise ValidationFailed(f"{field} is required", field=field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationFailed(f"{field} is a number from {low:g} to {high:g}", field=field)
    if not math.isfinite(value):
        raise ValidationFailed(f"{field} is a finite number", field=field)
    return float(value)


def _whole(body: dict[str, Any], key: str, field: str, *, low: int, high: int, default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(f"{field} is a whole number from {low} to {high}", field=field)
    return value


def _interval(value: object, field: str, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, str):
        seconds = parse_window(value)
        if seconds is None or seconds < 5:
            raise ValidationFailed(f"{field} is a duration such as 30s, 5m or 1h, at least 5s", field=field)
        return float(seconds)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 86400:
        raise ValidationFailed(f"{field} is seconds from 1 to 86400, or a duration such as 30s", field=field)
    return float(value)


_CHECK_FIELDS = {
    "errorRate": {"max"},
    "p95": {"maxSeconds"},
    "ratioToStable": {"factor", "plus"},
    "minRequests": {"count"},
}
_COMMON = {"kind", "interval", "failureLimit", "inconclusiveLimit", "minRequests"}


def _check(body: object, at: str, defaults: dict[str, Any]) -> Check:
    if not isinstance(body, dict):
        raise ValidationFailed(f"{at} is an object with a kind", field=at)
    kind = body.get("kind")
    if kind not in KINDS:
        raise ValidationFailed(f"{at}.kind is one of {', '.join(KINDS)}", field=f"{at}.kind")
    for key in body:
        if key not in _COMMON | _CHECK_FIELDS[kind] or (kind == "minRequests" and key == "minRequests"):
            raise ValidationFailed(
                f"unknown field {key!r} for a {kind} check", field=f"{at}.{key}", code="unknown_field"
            )
    common = {
        "kind": kind,
        "interval": _interval(
            body.get("interval", defaults.get("interval")), f"{at}.interval", DEFAULT_INTERVAL
        ),
        "failure_limit": _whole(
            body,
            "failureLimit",
            f"{at}.failureLimit",
            low=0,
            high=100,
            default=defaults.get("failureLimit", DEFAULT_FAILURE_LIMIT),
        ),
        "inconclusive_limit": _whole(
            body,
            "inconclusiveLimit",
            f"{at}.inconclusiveLimit",
            low=0,
            high=100,
            default=defaults.get("inconclusiveLimit", DEFAULT_INCONCLUSIVE_LIMIT),
        ),
    }
    if kind == "minRequests":
        count = _whole(body, "count", f"{at}.count", low=1, high=1_000_000, default=0)
        return Check(**common, limit=float(count), min_requests=count)
    least = _whole(body, "minRequests", f"{at}.minRequests", low=1, high=1_000_000, default=1)
    if kind == "errorRate":
        return Check(
            **common, limit=_number(body, "max", f"{at}.max", low=0, high=1, default=None), min_requests=least
        )
    if kind == "p95":
        limit = _number(body, "maxSeconds", f"{at}.maxSeconds", low=0.0001, high=3600, default=None)
        return Check(**common, limit=limit, min_requests=least)
    factor = _number(body, "factor", f"{at}.factor", low=0, high=1000, default=1.0)
    plus = _number(body, "plus", f"{at}.plus", low=0, high=1, default=0.0)
    return Check(**common, factor=factor, plus=plus, min_requests=least)


def parse_analysis(body: object, field: str = "analysis") -> Analysis:
    """``{interval?, failureLimit?, inconclusiveLimit?, checks: [...]}``: the top-level three
    are the checks' defaults."""
    if not isinstance(body, dict):
        raise ValidationFailed(f"{field} is an object with checks", field=field)
    for key in body:
        if key not in {"interval", "failureLimit", "inconclusiveLimit", "checks"}:
            raise ValidationFailed(f"unknown field {key!r}", field=f"{field}.{key}", code="unknown_field")
    checks = body.get("checks")
    if not isinstance(checks, list) or not 1 <= len(checks) <= MAX_CHECKS:
        raise ValidationFailed(
            f"{field}.checks is a list of 1 to {MAX_CHECKS} checks", field=f"{field}.checks"
        )
    defaults = {k: body[k] for k in ("interval", "failureLimit", "inconclusiveLimit") if k in body}
    return Analysis(tuple(_check(c, f"{field}.checks[{i}]", defaults) for i, c in enumerate(checks)))


def analysis_from(stored: dict[str, Any]) -> Analysis:
    """An analysis written by ``Analysis.to_dict`` (trusted: it was parsed before it was stored)."""
    return parse_analysis(stored)


def judge(check: Check, canary: Sample, stable: Sample) -> tuple[str, dict[str, Any]]:
    """One check's verdict on one interval, and the numbers it was decided on."""
    numbers: dict[str, Any] = {
        "canaryRequests": canary.requests,
        "canaryErrors": canary.errors,
        "stableRequests": stable.requests,
        "stableErrors": stable.errors,
    }
    if check.kind == "minRequests":
        return (PASS if canary.requests >= check.min_requests else INCONCLUSIVE), numbers
    if canary.requests < check.min_requests:
        return INCONCLUSIVE, numbers
    rate = canary.error_rate
    numbers["canaryErrorRate"] = rate
    if check.kind == "errorRate":
        numbers["max"] = check.limit
        return (PASS if rate is not None and rate <= check.limit else FAIL), numbers
    if check.kind == "p95":
        numbers["canaryP95"], numbers["maxSeconds"] = canary.p95, check.limit
        if canary.p95 is None:
            return INCONCLUSIVE, numbers
        return (PASS if canary.p95 <= check.limit else FAIL), numbers
    stable_rate = stable.error_rate
    numbers["stableErrorRate"] = stable_rate
    if stable_rate is None or rate is None:
        return INCONCLUSIVE, numbers
    ceiling = stable_rate * check.factor + check.plus
    numbers["ceiling"] = ceiling
    return (PASS if rate <= ceiling else FAIL), numbers


@dataclass(frozen=True)
class Decision:
    """What a rollout's analysis asks for now: ``continue``, ``abort`` or ``pause``, and why."""

    action: str
    check: int | None = None
    reason: str = ""


def decide(analysis: Analysis, counts: Mapping[int, Mapping[str, int]]) -> Decision:
    """From how many intervals of each check got each verdict so far in this rollout."""
    for index, check in enumerate(analysis.checks):
        failed = counts.get(index, {}).get(FAIL, 0)
        if failed > check.failure_limit:
            return Decision(
                "abort",
                index,
                f"check {index} ({check.kind}) failed {failed} intervals, "
                f"past its failureLimit {check.failure_limit}",
            )
    for index, check in enumerate(analysis.checks):
        unsure = counts.get(index, {}).get(INCONCLUSIVE, 0)
        if unsure > check.inconclusive_limit:
            return Decision(
                "pause",
                index,
                f"check {index} ({check.kind}) was inconclusive {unsure} intervals (too little traffic), "
                f"past its inconclusiveLimit {check.inconclusive_limit}: a human decides",
            )
    return Decision("continue")


def step_may_advance(analysis: Analysis, latest: dict[int, str]) -> bool:
    """A step advances only once the latest interval of every check in it passed."""
    return all(latest.get(index) == PASS for index in range(len(analysis.checks)))
