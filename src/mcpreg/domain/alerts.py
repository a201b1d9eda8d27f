"""Alert rules of an environment, and when their conditions hold (pure).

An alert rule watches one environment (optionally one server in it) and names a webhook:

* ``errorRate``: a deployed version's error rate over the last ``window`` above
  ``threshold`` (0.05 is 5%), judged only on at least ``minRequests`` requests (fewer, or
  none, is no verdict: an alert neither fires nor resolves on too little traffic);
* ``health``: a deployed version's health state (the prober's) at ``state`` or worse
  (``degraded`` also fires on ``unhealthy``); it resolves when the state is better again;
* ``rollback``: the canary analysis aborted a rollout and rolled it back by itself (an
  event: it fires once per rollout and has nothing to resolve).

A condition fires once when it starts and is resolved when it stops; a delivery that fails
is retried after :func:`retry_delay` seconds, ``MAX_ATTEMPTS`` attempts in all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from mcpreg.domain.addresses import host_allowed, scheme_allowed
from mcpreg.domain.traffic import parse_window
from mcpreg.errors import ValidationFailed

ERROR_RATE, HEALTH, ROLLBACK = "errorRate", "health", "rollback"
KINDS = (ERROR_RATE, HEALTH, ROLLBACK)
DEGRADED, UNHEALTHY = "degraded", "unhealthy"
STATES = (DEGRADED, UNHEALTHY)  # in order of severity
PENDING, DELIVERED, FAILED, DROPPED = "pending", "delivered", "failed", "dropped"

NAME_RULE = "1 to 63 lowercase letters, digits and dashes, starting with a letter"
_NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
MAX_URL = 2000
MIN_SECRET, MAX_SECRET = 8, 4096
DEFAULT_WINDOW = 300  # seconds
MAX_WINDOW = 3600  # an errorRate rule reads its window's traffic rows each time it is judged
ERROR_RATE_EVERY = 10.0  # seconds between two judgements of the errorRate rules by one replica
DEFAULT_MIN_REQUESTS = 20
MAX_MIN_REQUESTS = 1_000_000
DEFAULT_TIMEOUT, MAX_TIMEOUT = 10.0, 60.0
MAX_ATTEMPTS = 5
RETRY_FIRST, RETRY_CAP = 1.0, 60.0  # seconds
MAX_RULES = 50  # per environment

FIELDS = frozenset(
    {"kind", "url", "secret", "server", "threshold", "window", "minRequests", "state", "timeoutSeconds"}
)
_FOR_KIND = {
    ERROR_RATE: frozenset({"threshold", "window", "minRequests"}),
    HEALTH: frozenset({"state"}),
    ROLLBACK: frozenset(),
}


@dataclass(frozen=True)
class Rule:
    """One alert rule, without its secret (sealed and kept apart)."""

    kind: str
    url: str
    server: str | None = None
    threshold: float | None = None  # errorRate
    window: int | None = None  # errorRate, seconds
    min_requests: int | None = None  # errorRate
    state: str | None = None  # health
    timeout: float = DEFAULT_TIMEOUT

    def to_dict(self) -> dict[str, Any]:
        """The rule as the API shows it (camelCase; keys of other kinds left out)."""
        shown: dict[str, Any] = {"kind": self.kind, "url": self.url, "server": self.server}
        if self.kind == ERROR_RATE:
            shown.update(threshold=self.threshold, window=self.window, minRequests=self.min_requests)
        if self.kind == HEALTH:
            shown["state"] = self.state
        shown["timeoutSeconds"] = self.timeout
        return shown


@dataclass(frozen=True)
class RuleSpec:
    """A rule as asked for, with its secret when one was given (None: keep the stored one)."""

    rule: Rule
    secret: str | None = None


def check_name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value) or value.endswith("-"):
        raise ValidationFailed(f"an alert name is {NAME_RULE}", field=field)
    return value


def check_url(value: object, *, private_remotes: bool) -> str:
    """An absolute http(s) URL the registry may POST to (the private-remotes rule applies)."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_URL:
        raise ValidationFailed(f"url is an http(s) URL of at most {MAX_URL} characters", field="url")
    url = value.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError:
        raise ValidationFailed("url is not a valid URL", field="url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationFailed("url is an absolute http or https URL", field="url")
    if parts.username or parts.password:
        raise ValidationFailed("url carries no user or password (sign with the secret)", field="url")
    if not scheme_allowed(parts.scheme, private_remotes=private_remotes):
        raise ValidationFailed("url is https (MCPREG_ALLOW_PRIVATE_REMOTES=1 allows http)", field="url")
    if not host_allowed(host, private_remotes=private_remotes):
        raise ValidationFailed(
            "url names a local or private host (MCPREG_ALLOW_PRIVATE_REMOTES=1 allows it)", field="url"
        )
    return url


def _secret(value: object) -> str:
    if (
        not isinstance(value, str)
        or not MIN_SECRET <= len(value) <= MAX_SECRET
        or any(c in value for c in "\r\n\0")
    ):
        raise ValidationFailed(
            f"secret is a string of {MIN_SECRET} to {MAX_SECRET} characters on one line", field="secret"
        )
    return value


def _number(value: object, field: str, low: float, high: float, *, above: bool = False) -> float:
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not (low < number <= high if above else low <= number <= high):
        bound = f"above {low:g}" if above else f"from {low:g}"
        raise ValidationFailed(f"{field} is a number {bound} to {high:g}", field=field)
    return number


def _window(value: object) -> int:
    if value is None:
        return DEFAULT_WINDOW
    seconds = parse_window(value) if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        seconds = value
    if seconds is None or seconds > MAX_WINDOW:
        raise ValidationFailed("window is a duration up to 1h: 90s, 5m, 1h, or seconds", field="window")
    return seconds


def parse_rule(body: Mapping[str, Any], *, private_remotes: bool, creating: bool) -> RuleSpec:
    """A PUT body checked field by field; the secret may be left out only when replacing."""
    for key in body:
        if key not in FIELDS:
            raise ValidationFailed(f"unknown field {key!r}", field=key, code="unknown_field")
    kind = body.get("kind")
    if kind not in KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(KINDS)}", field="kind")
    for key in body:
        if key in FIELDS - {"kind", "url", "secret", "server", "timeoutSeconds"} - _FOR_KIND[kind]:
            raise ValidationFailed(f"{key} does not apply to a {kind} rule", field=key)
    url = check_url(body.get("url"), private_remotes=private_remotes)
    if body.get("secret") is None and creating:
        raise ValidationFailed("a new alert rule needs a signing secret", field="secret")
    secret = _secret(body["secret"]) if body.get("secret") is not None else None
    server = body.get("server")
    if server is not None and (not isinstance(server, str) or "/" not in server or len(server) > 200):
        raise ValidationFailed("server is a server name (namespace/name)", field="server")
    timeout = body.get("timeoutSeconds")
    rule = Rule(
        kind=kind,
        url=url,
        server=server,
        timeout=DEFAULT_TIMEOUT
        if timeout is None
        else _number(timeout, "timeoutSeconds", 0, MAX_TIMEOUT, above=True),
    )
    if kind == ERROR_RATE:
        if body.get("threshold") is None:
            raise ValidationFailed("an errorRate rule needs a threshold (0.05 is 5%)", field="threshold")
        minimum = body.get("minRequests", DEFAULT_MIN_REQUESTS)
        if isinstance(minimum, bool) or not isinstance(minimum, int) or not 1 <= minimum <= MAX_MIN_REQUESTS:
            raise ValidationFailed(
                f"minRequests is an integer from 1 to {MAX_MIN_REQUESTS}", field="minRequests"
            )
        rule = replace(
            rule,
            threshold=_number(body["threshold"], "threshold", 0, 1, above=True),
            window=_window(body.get("window")),
            min_requests=minimum,
        )
    if kind == HEALTH:
        state = body.get("state", UNHEALTHY)
        if state not in STATES:
            raise ValidationFailed(f"state is one of {', '.join(STATES)}", field="state")
        rule = replace(rule, state=state)
    return RuleSpec(rule, secret)


def error_rate_breached(rule: Rule, requests: int, errors: int) -> bool | None:
    """Whether the error rate is above the threshold; None on fewer than ``minRequests``."""
    if requests <= 0 or requests < (rule.min_requests or 1):
        return None
    return errors / requests > (rule.threshold or 0.0)


def health_breached(rule: Rule, state: str | None) -> bool:
    """Whether ``state`` is at the rule's state or worse."""
    if state not in STATES:
        return False
    return STATES.index(state) >= STATES.index(rule.state or UNHEALTHY)


def retry_delay(attempt: int) -> float:
    """Seconds after failed attempt ``attempt`` (1-based) before the next: 1, 2, 4 ... up to 60."""
    return min(RETRY_FIRST * 2.0 ** min(max(attempt - 1, 0), 16), RETRY_CAP)
