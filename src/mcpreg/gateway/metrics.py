"""Per-version gateway metrics: what ``observe`` counts, for ``/metrics`` and for the database.

The gateway calls ``GatewayMetrics.observe`` once per proxied request, after its response
ended. ``observe`` does no I/O: it bumps a Prometheus counter and histogram on the app's own
``CollectorRegistry`` (served on ``/metrics``) and adds to this replica's open interval, a
dict of ``Tally`` per (server, environment, version, track, method, outcome). The aggregate
flusher (``api/background.py``, ``traffic-flusher``) takes the interval with ``drain`` every
``MCPREG_TRAFFIC_FLUSH_INTERVAL`` seconds and writes it to the database, where ``/traffic``
sums every replica's rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram

from mcpreg.domain.traffic import BUCKET_COUNT, LATENCY_BUCKETS, OUTCOMES, bucket_index

LABELS = ("server", "environment", "version", "track", "method", "outcome")
LATENCY_LABELS = ("server", "environment", "version", "track", "method")


@dataclass(frozen=True)
class Observation:
    """One proxied request, as the gateway saw it end."""

    server: str
    environment: str
    version: str
    track: str  # "stable" | "canary"
    method: str  # MCP method, e.g. "tools/call"; "" when unknown
    outcome: str  # one of domain.traffic.OUTCOMES
    seconds: float
    session: str | None = None  # opaque legacy-session id (to count sessions), else None


@dataclass(frozen=True)
class TrafficKey:
    """What one aggregate row is about."""

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
    sessions: set[str] = field(default_factory=set)

    def add(self, seconds: float, session: str | None) -> None:
        self.requests += 1
        self.seconds_sum += seconds
        self.buckets[bucket_index(seconds)] += 1
        if session is not None:
            self.sessions.add(session)


@dataclass(frozen=True)
class Interval:
    """What ``drain`` hands the flusher: the tallies since the previous drain."""

    tallies: dict[TrafficKey, Tally]


class GatewayMetrics:
    """This replica's gateway counters: Prometheus series and the open traffic interval."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "mcpreg_gateway_requests",
            "Requests proxied by the gateway by server, environment, version, track, method, outcome.",
            LABELS,
            registry=self.registry,
        )
        self._latency = Histogram(
            "mcpreg_gateway_request_duration_seconds",
            "Seconds from a proxied request's arrival to the end of its response.",
            LATENCY_LABELS,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._lock = threading.Lock()
        self._open: dict[TrafficKey, Tally] = {}

    def observe(self, observation: Observation) -> None:
        """Count and time one proxied request (no I/O; safe from the event loop and threads)."""
        o = observation
        outcome = o.outcome
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown gateway outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        seconds = o.seconds if o.seconds >= 0 else 0.0
        self._requests.labels(o.server, o.environment, o.version, o.track, o.method, outcome).inc()
        self._latency.labels(o.server, o.environment, o.version, o.track, o.method).observe(seconds)
        key = TrafficKey(o.server, o.environment, o.version, o.track, o.method, outcome)
        with self._lock:
            tally = self._open.get(key)
            if tally is None:
                tally = self._open[key] = Tally()
            tally.add(seconds, o.session)

    def drain(self) -> Interval:
        """The open interval's tallies, leaving a new, empty interval open."""
        with self._lock:
            tallies, self._open = self._open, {}
        return Interval(tallies)

    def restore(self, interval: Interval) -> None:
        """Put back an interval whose write failed, so the next flush writes it with its own."""
        with self._lock:
            for key, old in interval.tallies.items():
                tally = self._open.get(key)
                if tally is None:
                    self._open[key] = old
                    continue
                tally.requests += old.requests
                tally.seconds_sum += old.seconds_sum
                tally.buckets = [a + b for a, b in zip(tally.buckets, old.buckets, strict=True)]
                tally.sessions |= old.sessions
