"""Gateway traffic, as numbers: outcomes, latency buckets, windows and quantiles (pure).

One latency histogram shape is shared by the Prometheus histogram on ``/metrics``, by the
per-interval aggregates each replica writes to the database and by ``/traffic``, so the
buckets summed over replicas are the buckets a quantile is read from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

OUTCOMES = ("ok", "jsonrpc_error", "tool_error", "upstream_5xx", "timeout", "refused")
"""How a proxied request ended; only ``ok`` is a success (a tool result with ``isError`` is not)."""

TRACKS = ("stable", "canary")

MCP_METHODS = frozenset(
    {
        "initialize",
        "ping",
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/read",
        "resources/templates/list",
        "resources/subscribe",
        "resources/unsubscribe",
        "prompts/list",
        "prompts/get",
        "completion/complete",
        "logging/setLevel",
        "notifications/initialized",
        "notifications/cancelled",
        "notifications/progress",
        "notifications/roots/list_changed",
    }
)
"""The MCP methods counted by name; any other is counted as ``other`` (a client picks the
method string, and each distinct label is a series kept for ever)."""

LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
"""Upper bounds (seconds) of the latency buckets; a last, open bucket (``+Inf``) follows."""

BUCKET_COUNT = len(LATENCY_BUCKETS) + 1

MAX_WINDOW_SECONDS = 24 * 3600
"""The longest ``window`` a traffic question may ask about (aggregates are kept this long)."""

_WINDOW = re.compile(r"(?P<amount>[1-9][0-9]{0,5})(?P<unit>[smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WINDOW_RULE = "a whole number followed by s, m, h or d (e.g. 30s, 5m, 1h), at least 1s and at most 24h"


def method_label(method: str) -> str:
    """The method as counted: itself when MCP defines it, ``""`` when unknown, else ``other``."""
    return method if method in MCP_METHODS or method == "" else "other"


def bucket_index(seconds: float) -> int:
    """The bucket a latency falls in: the first whose upper bound is at least ``seconds``."""
    for index, bound in enumerate(LATENCY_BUCKETS):
        if seconds <= bound:
            return index
    return len(LATENCY_BUCKETS)


def parse_window(text: str) -> int | None:
    """``5m`` -> 300; ``None`` for anything that is not a window of at most 24 hours."""
    match = _WINDOW.fullmatch(text.strip())
    if match is None:
        return None
    seconds = int(match["amount"]) * _UNIT_SECONDS[match["unit"]]
    return seconds if 0 < seconds <= MAX_WINDOW_SECONDS else None


def add_buckets(left: Sequence[int], right: Sequence[int]) -> list[int]:
    """Two per-bucket count lists summed (a shorter list counts as zeros past its end)."""
    size = max(len(left), len(right))
    return [(left[i] if i < len(left) else 0) + (right[i] if i < len(right) else 0) for i in range(size)]


def quantile(buckets: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile (0 < q < 1) of a latency histogram, in seconds; ``None`` when empty.

    ``buckets`` holds per-bucket (not cumulative) counts over ``LATENCY_BUCKETS`` plus the
    open bucket. As Prometheus's ``histogram_quantile`` does, the value is interpolated
    linearly inside the bucket where the rank falls (from 0 in the first bucket); a rank in
    the open bucket answers the last finite bound.
    """
    total = sum(buckets)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(buckets):
        if count and seen + count >= rank:
            if index >= len(LATENCY_BUCKETS):
                return LATENCY_BUCKETS[-1]
            lower = LATENCY_BUCKETS[index - 1] if index > 0 else 0.0
            upper = LATENCY_BUCKETS[index]
            return lower + (upper - lower) * max(0.0, rank - seen) / count
        seen += count
    return LATENCY_BUCKETS[-1]


class TrafficKey(NamedTuple):
    """What one aggregate row is about (a tuple: cheap to build and hash once per request)."""

    server: str
    environment: str
    version: str
    track: str
    method: str
    outcome: str


@dataclass
class Tally:
    """The requests of one ``TrafficKey`` in one interval on one replica."""

    requests: int = 0
    seconds_sum: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKET_COUNT)

    def add(self, seconds: float) -> None:
        self.requests += 1
        self.seconds_sum += seconds
        self.buckets[bucket_index(seconds)] += 1

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.seconds_sum += other.seconds_sum
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]


@dataclass(frozen=True)
class Interval:
    """What ``drain`` hands the flusher: the tallies from ``start`` (the previous drain) to ``end``."""

    start: datetime
    end: datetime
    tallies: dict[TrafficKey, Tally]


@dataclass(frozen=True)
class VersionTraffic:
    """One version's traffic over a window, summed over every replica."""

    version: str
    track: str
    requests: int
    outcomes: dict[str, int]
    seconds_sum: float
    buckets: list[int]
    window_seconds: int

    @property
    def errors(self) -> int:
        return self.requests - self.outcomes.get("ok", 0)

    @property
    def request_rate(self) -> float:
        """Requests per second over the window."""
        return self.requests / self.window_seconds

    @property
    def error_rate(self) -> float:
        """The share of requests that did not end ``ok`` (0 when there were none)."""
        return self.errors / self.requests if self.requests else 0.0

    def latency(self, q: float) -> float | None:
        return quantile(self.buckets, q)

    @property
    def mean_seconds(self) -> float | None:
        return self.seconds_sum / self.requests if self.requests else None


def rounded(value: float | None, digits: int = 6) -> float | None:
    """A float for a JSON answer: rounded, ``None`` kept, never NaN."""
    if value is None or math.isnan(value):
        return None
    return round(value, digits)
