"""uvicorn with a graceful stop: SIGTERM drains, finishes what is in flight, exits 0.

On the first SIGTERM the replica turns not-ready (``/readyz`` answers 503) and keeps
serving for ``MCPREG_SHUTDOWN_DRAIN`` seconds, long enough for a load balancer or the
Kubernetes endpoints controller to stop sending it new requests. Then uvicorn stops
accepting connections, lets in-flight requests (and open long polls, which answer at once
when draining) finish for up to ``MCPREG_SHUTDOWN_TIMEOUT`` seconds, runs the lifespan
shutdown (background loops stop between ticks), and the process exits 0. A second SIGTERM
skips the rest of the drain; SIGINT (Ctrl-C) keeps uvicorn's behaviour.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import uvicorn

from mcpreg.api.probes import Drain

log = logging.getLogger("mcpreg")


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain: Drain, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.drain_seconds = drain_seconds
        self.stop_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig != signal.SIGTERM:
            super().handle_exit(sig, frame)
            return
        # Not recorded in ``_captured_signals``: uvicorn would re-raise it after shutting
        # down, and the default SIGTERM action would turn a clean stop into exit status 143.
        if self.stop_at is None and self.drain_seconds > 0:
            self.drain.start()
            self.stop_at = time.monotonic() + self.drain_seconds
            log.info("SIGTERM: draining for %.1f s before closing the listener", self.drain_seconds)
            return
        self.drain.start()
        self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self.stop_at is not None and time.monotonic() >= self.stop_at:
            self.should_exit = True
        return await super().on_tick(counter)
