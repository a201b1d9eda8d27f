"""One replica's gateway: its upstream pool, its session seal, its memo of upstreams.

Built once in ``create_app`` as the ``Runtime``'s ``gateway`` field (its client is closed
when the app's lifespan ends: ``async with``); what it proxies is counted by the ``Runtime``'s
``gateway_metrics``. The upstreams memo is
one of the response cache's memos, so it is emptied with the cache whenever the change
generation moves: at once for a change made through this replica, within one poll of the
generation watcher (0.25 s) for a change made anywhere else. That is how a rollback, an
abort or a completed rollout reaches the gateway's next request on every replica within a
second, as it reaches ``/resolve``.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from mcpreg.api.fastpath.cache import ResponseCache
from mcpreg.api.fastpath.memo import Memo
from mcpreg.crypto.keyring import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.gateway.answers import Timeouts
from mcpreg.gateway.connections import UpstreamPool
from mcpreg.gateway.sessions import SessionSeal
from mcpreg.gateway.upstream import GatewayTarget, gateway_target
from mcpreg.settings import Settings

TARGETS = 20_000  # (environment, server) upstreams kept per replica until the next change
CONNECTIONS = 200  # open upstream connections at most, per replica
KEEPALIVE = CONNECTIONS  # idle upstream connections kept for reuse (fewer: reconnects under load)
QUIET = ("httpx", "httpx2")  # HTTP clients that log every request's URL at INFO (the prober's)


def quiet_http_clients() -> None:
    """Upstream URLs are filled from the effective configuration, so the request lines of the
    HTTP clients the prober's ``mcp`` client uses are never logged: warnings and errors only."""
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))


class Gateway:
    """What the gateway's handler needs beyond its request."""

    def __init__(
        self,
        settings: Settings,
        engine: sa.Engine,
        keyring: KeyRing,
        cache: ResponseCache,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.keyring = keyring
        # Every upstream request goes through it (no redirects, no proxy variables, nothing
        # logged: upstream URLs are filled from the effective configuration).
        quiet_http_clients()
        self.client = UpstreamPool(max_connections=CONNECTIONS, max_idle=KEEPALIVE)
        connect, wait = settings.gateway_connect_timeout, settings.gateway_timeout
        self.timeouts = Timeouts(connect=connect, read=wait, pool=wait)
        self.stream_timeouts = Timeouts(connect=connect, read=None, pool=wait)  # a GET's server stream
        self.seal = SessionSeal(keyring)
        self.targets: Memo[tuple[str, str], GatewayTarget] = cache.memo(TARGETS)

    def build_target(self, environment: str, server: str) -> GatewayTarget:
        """Read what ``server`` runs in ``environment`` (a worker thread; secrets unsealed)."""
        with unit_of_work(self.engine) as session:
            return gateway_target(session, self.keyring, server, environment)

    async def aclose(self) -> None:
        await self.client.aclose()
