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

import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram

from mcpreg.db.types import utcnow
from mcpreg.domain.traffic import LATENCY_BUCKETS, OUTCOMES, Interval, Tally, TrafficKey, method_label

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
    # An opaque legacy-session id, else None. Accepted as agreed with the gateway; the
    # aggregates do not count sessions (a session may move between replicas every request).
    session: str | None = None


def replica_id() -> str:
    """A name for this process among the replicas: host, pid and a random part (pids repeat)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(4)}"


class GatewayMetrics:
    """This replica's gateway counters: Prometheus series and the open traffic interval."""

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        replica: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.replica = replica or replica_id()
        self._clock = clock
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
        self._series: dict[TrafficKey, tuple[Counter, Histogram]] = {}  # each key's children
        self._opened = clock()

    def observe(self, observation: Observation) -> None:
        """Count and time one proxied request (no I/O; safe from the event loop and threads)."""
        o = observation
        outcome = o.outcome
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown gateway outcome {outcome!r}; one of {', '.join(OUTCOMES)}")
        seconds = o.seconds if o.seconds >= 0 else 0.0
        key = TrafficKey(o.server, o.environment, o.version, o.track, method_label(o.method), outcome)
        series = self._series.get(key)
        if series is None:  # the first of its key: Prometheus's ``labels`` once, not per request
            series = self._series[key] = (
                self._requests.labels(*key),
                self._latency.labels(*key[:-1]),
            )
        series[0].inc()
        series[1].observe(seconds)
        with self._lock:
            tally = self._open.get(key)
            if tally is None:
                tally = self._open[key] = Tally()
            tally.add(seconds)

    def drain(self) -> Interval:
        """The open interval's tallies, leaving a new, empty interval open."""
        now = self._clock()
        with self._lock:
            tallies, self._open = self._open, {}
            start, self._opened = self._opened, now
        return Interval(start, now, tallies)

    def restore(self, interval: Interval) -> None:
        """Put back an interval whose write failed, so the next flush writes it with its own."""
        with self._lock:
            self._opened = min(self._opened, interval.start)
            for key, old in interval.tallies.items():
                tally = self._open.get(key)
                if tally is None:
                    self._open[key] = old
                else:
                    tally.merge(old)
