"""Rate limits of the gateway: token buckets, and the rule for reading a limit.

A limit is a token bucket: ``burst`` tokens at most, refilled at ``rate`` tokens a second;
a request takes one token or is refused with the time until one is there. An environment
holds a default for all its servers and any server may have its own; each names two
buckets: one for the server in that environment (all clients together) and one per client
within it (by routing key). Either may be absent (no limit of that kind).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mcpreg.errors import ValidationFailed

MAX_RATE = 1_000_000.0  # tokens a second
MAX_BURST = 1_000_000
EPSILON = 1e-9  # a token short by rounding only (0.05 s at 5/s is 0.2499...) is a whole token


@dataclass(frozen=True)
class Limit:
    """A token bucket's shape: refills ``rate`` tokens a second, holds at most ``burst``."""

    rate: float
    burst: int


@dataclass(frozen=True)
class Limits:
    """The buckets of one server in one environment: all clients together, and each client."""

    target: Limit | None = None
    client: Limit | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.target.rate if self.target else None,
            "burst": self.target.burst if self.target else None,
            "clientRate": self.client.rate if self.client else None,
            "clientBurst": self.client.burst if self.client else None,
        }


NO_LIMITS = Limits()


@dataclass(frozen=True)
class Bucket:
    """A bucket's state: ``tokens`` left at ``stamp`` (seconds on some monotonic clock)."""

    tokens: float
    stamp: float


def take(limit: Limit, bucket: Bucket | None, now: float) -> tuple[Bucket, float]:
    """Take one token: the new state, and 0 when it was there, else the seconds until it is.

    A bucket never seen is full. A clock that went backwards refills nothing.
    """
    if bucket is None:
        tokens = float(limit.burst)
    else:
        tokens = min(float(limit.burst), bucket.tokens + max(0.0, now - bucket.stamp) * limit.rate)
    if tokens >= 1.0 - EPSILON:
        return Bucket(max(0.0, tokens - 1.0), now), 0.0
    return Bucket(tokens, now), (1.0 - tokens) / limit.rate


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds, never 0 (a client told 0 retries at once)."""
    return str(max(1, math.ceil(seconds)))


_FIELDS = ("rate", "burst", "clientRate", "clientBurst")


def _rate(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_RATE:
        raise ValidationFailed(
            f"{key} is a number of requests a second above 0, at most {MAX_RATE:g}", field=key
        )
    return float(value)


def _burst(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BURST:
        raise ValidationFailed(f"{key} is a whole number of requests from 1 to {MAX_BURST}", field=key)
    return value


def _pair(body: dict[str, Any], rate_key: str, burst_key: str) -> Limit | None:
    rate, burst = _rate(body, rate_key), _burst(body, burst_key)
    if rate is None and burst is None:
        return None
    if rate is None or burst is None:
        missing = rate_key if rate is None else burst_key
        raise ValidationFailed(f"{rate_key} and {burst_key} go together: {missing} is missing", field=missing)
    return Limit(rate, burst)


def parse_limits(body: dict[str, Any]) -> Limits:
    """``{rate, burst, clientRate, clientBurst}``: each pair together or not at all, one at least."""
    for key in body:
        if key not in _FIELDS:
            raise ValidationFailed(f"unknown field {key!r}", field=key, code="unknown_field")
    limits = Limits(_pair(body, "rate", "burst"), _pair(body, "clientRate", "clientBurst"))
    if limits == NO_LIMITS:
        raise ValidationFailed("give rate and burst, clientRate and clientBurst, or both", field="rate")
    return limits
