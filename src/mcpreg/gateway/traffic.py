"""The aggregate flusher's pass: this replica's drained interval into the database.

``api/background.py`` runs ``TrafficFlusher.flush`` every ``MCPREG_TRAFFIC_FLUSH_INTERVAL``
seconds (the ``traffic-flusher`` loop) and once more when the replica stops, so a stopped
replica's last seconds are kept. A write that fails puts its interval back
(``GatewayMetrics.restore``): the next pass writes it with its own, nothing is lost while
the database is away (the Prometheus series never depended on it). About once a minute the
pass also deletes rows no window can reach and merges this replica's hour-old rows into one
per key and minute (``services.traffic.compact``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from mcpreg.db.engine import unit_of_work
from mcpreg.db.types import utcnow
from mcpreg.gateway.metrics import GatewayMetrics
from mcpreg.services import traffic

PRUNE_EVERY = 60.0  # seconds between two deletions of expired rows


class TrafficFlusher:
    """Writes one replica's gateway intervals; holds when it last pruned."""

    def __init__(
        self,
        engine: sa.Engine,
        metrics: GatewayMetrics,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._metrics = metrics
        self._clock = clock
        self._pruned: float | None = None

    def flush(self) -> int:
        """Write what was counted since the last flush (blocking); returns the rows written."""
        interval = self._metrics.drain()
        written = 0
        if interval.tallies:
            try:
                with unit_of_work(self._engine, write=True) as session:
                    written = traffic.record(session, self._metrics.replica, interval)
            except BaseException:
                self._metrics.restore(interval)
                raise
        now = self._clock()
        if self._pruned is None or now - self._pruned >= PRUNE_EVERY:
            self._prune()
            self._pruned = now
        return written

    def _prune(self) -> None:
        """Delete expired rows and merge this replica's hour-old ones by minute; a cheap read
        first, so an idle replica takes no write lock."""
        at, replica = utcnow(), self._metrics.replica
        with unit_of_work(self._engine) as session:
            expired = traffic.expired(session, at)
            compactable = traffic.compactable(session, replica, at)
        if not (expired or compactable):
            return
        with unit_of_work(self._engine, write=True) as session:
            traffic.prune(session, at)
            traffic.compact(session, replica, at)
