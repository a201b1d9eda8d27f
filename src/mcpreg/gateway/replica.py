"""One replica's gateway: its upstream client, its session seal, its memo of upstreams.

Built once in ``create_app`` as the ``Runtime``'s ``gateway`` field (its client is closed
when the app's lifespan ends); what it proxies is counted by the ``Runtime``'s
``gateway_metrics``. The upstreams memo is
one of the response cache's memos, so it is emptied with the cache whenever the change
generation moves: at once for a change made through this replica, within one poll of the
generation watcher (0.25 s) for a change made anywhere else. That is how a rollback, an
abort or a completed rollout reaches the gateway's next request on every replica within a
second, as it reaches ``/resolve``.
"""

from __future__ import annotations

import logging

import httpx2
import sqlalchemy as sa

from mcpreg.api.fastpath.cache import Memo, ResponseCache
from mcpreg.crypto.keyring import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.gateway.sessions import SessionSeal
from mcpreg.gateway.upstream import GatewayTarget, gateway_target
from mcpreg.settings import Settings

TARGETS = 20_000  # (environment, server) upstreams kept per replica until the next change
CONNECTIONS = 200  # open upstream connections at most, per replica
KEEPALIVE = 50  # idle upstream connections kept for reuse


QUIET = ("httpx", "httpx2")  # HTTP clients that log every request's URL at INFO


def upstream_client(settings: Settings) -> httpx2.AsyncClient:
    """The one client every upstream request goes through (no redirects, no proxy variables).

    Upstream URLs are filled from the effective configuration, so the clients' request
    lines are never logged: their loggers keep warnings and errors only.
    """
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.getLogger(name).level, logging.WARNING))
    return httpx2.AsyncClient(
        timeout=httpx2.Timeout(settings.gateway_timeout, connect=settings.gateway_connect_timeout),
        limits=httpx2.Limits(max_connections=CONNECTIONS, max_keepalive_connections=KEEPALIVE),
        follow_redirects=False,
        trust_env=False,
    )


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
        self.client = upstream_client(settings)
        self.seal = SessionSeal(keyring)
        self.targets: Memo[tuple[str, str], GatewayTarget] = cache.memo(TARGETS)

    def build_target(self, environment: str, server: str) -> GatewayTarget:
        """Read what ``server`` runs in ``environment`` (a worker thread; secrets unsealed)."""
        with unit_of_work(self.engine) as session:
            return gateway_target(session, self.keyring, server, environment)

    async def aclose(self) -> None:
        await self.client.aclose()
