"""The health prober: every deployed version, checked with the real MCP client.

Every ``MCPREG_HEALTH_INTERVAL`` seconds one replica (the holder of the ``health-prober``
database lease; the others skip the pass) lists what is stable or canary in every
environment, reaches each version exactly as the gateway would (the same upstream URL
and headers from the effective configuration, secrets unsealed in memory only, the same
private-address guard) and asks it to initialize (or discover) and ``tools/list``, each
within ``MCPREG_HEALTH_TIMEOUT`` seconds. Results are folded into each version's state
(``services.health``). On shutdown the lease is given up at once.

A failure's reason is the error's class and message from the client, never a header.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import anyio
import httpx2
import sqlalchemy as sa
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from mcpreg.crypto.keyring import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.health import Thresholds
from mcpreg.errors import RegistryError
from mcpreg.gateway.guard import destination
from mcpreg.gateway.upstream import gateway_target
from mcpreg.services import health, leases
from mcpreg.services.deploy.states import states_in
from mcpreg.services.environments import list_environments
from mcpreg.settings import Settings

log = logging.getLogger("mcpreg.health")

LEASE = "health-prober"


@dataclass(frozen=True)
class Probe:
    """One deployed version to check, reached as the gateway reaches it."""

    environment: str
    server: str
    version: str
    url: str = ""
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    problem: str | None = None  # why it cannot be reached at all (no remote, a value missing)


def probes(session: Session, keyring: KeyRing) -> list[Probe]:
    """Every version that is stable or canary in some environment."""
    found: list[Probe] = []
    for env in list_environments(session):
        for state in states_in(session, env):
            if not state.stable_version:
                continue
            try:
                target = gateway_target(session, keyring, state.server_name, env.name)
            except RegistryError:
                continue
            for upstream in (target.stable, target.canary):
                if upstream is None:
                    continue
                problem = upstream.problem.detail if upstream.problem is not None else None
                found.append(
                    Probe(
                        env.name, upstream.server, upstream.version, upstream.url, upstream.headers, problem
                    )
                )
    return found


@asynccontextmanager
async def connected(
    url: str, headers: tuple[tuple[str, str], ...], *, private_remotes: bool, timeout: float
) -> AsyncIterator[Client]:
    """The real MCP client on one upstream, reached as the gateway reaches it (the prober's,
    and ``services.testsets``'): the same private-address guard (``RegistryError`` when it
    refuses), no redirects, no proxy variables."""
    checked = await destination(url, private_remotes=private_remotes)
    # Over plain http the client goes to the checked address, as the gateway's requests do;
    # over https to the name itself, which the certificate must match.
    pinned = checked.url.scheme == "http"
    target = str(checked.url) if pinned else url
    sent = {**dict(headers), **(checked.headers if pinned else {})}
    http = httpx2.AsyncClient(headers=sent, timeout=timeout, follow_redirects=False, trust_env=False)
    async with http, Client(streamable_http_client(target, http_client=http)) as client:
        yield client


async def check(probe: Probe, *, private_remotes: bool, timeout: float) -> str | None:
    """None when the version initializes and lists its tools in time, else why not."""
    if probe.problem is not None:
        return probe.problem
    try:
        with anyio.fail_after(timeout):
            async with connected(
                probe.url, probe.headers, private_remotes=private_remotes, timeout=timeout
            ) as client:
                await client.list_tools()
    except RegistryError as exc:
        return exc.detail
    except TimeoutError:
        return f"no answer to initialize and tools/list within {timeout:g} s"
    except Exception as exc:  # any failure of the upstream is a failed probe, never the prober's
        return f"{type(exc).__name__}: {exc}"[: health.DETAIL]
    return None


class Prober:
    """One replica's prober loop (``api.background``'s ``health-prober``)."""

    def __init__(self, settings: Settings, engine: sa.Engine, keyring: KeyRing) -> None:
        self.settings = settings
        self.engine = engine
        self.keyring = keyring
        self.holder = f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.thresholds = Thresholds(settings.health_unhealthy_after, settings.health_healthy_after)
        self.passes = 0  # passes this replica ran (it held the lease)

    def _lease(self) -> bool:
        ttl = timedelta(seconds=max(3 * self.settings.health_interval, 5.0))
        with unit_of_work(self.engine, write=True) as session:
            return leases.try_acquire(session, LEASE, self.holder, ttl)

    def _list(self) -> list[Probe]:
        with unit_of_work(self.engine) as session:
            return probes(session, self.keyring)

    def _record(self, results: list[tuple[Probe, str | None]]) -> int:
        changed = 0
        with unit_of_work(self.engine, write=True) as session:
            for probe, failure in results:
                before, after = health.record(
                    session,
                    probe.environment,
                    probe.server,
                    probe.version,
                    failure is None,
                    failure,
                    thresholds=self.thresholds,
                )
                if before != after:
                    changed += 1
                    log.info(
                        "health: %s@%s in %s is %s (was %s)",
                        probe.server,
                        probe.version,
                        probe.environment,
                        after,
                        before or "unchecked",
                    )
        return changed

    async def run_once(self) -> int:
        """One pass (when this replica holds the lease); the number of state changes."""
        if not await run_in_threadpool(self._lease):
            return 0
        listed = await run_in_threadpool(self._list)
        timeout = self.settings.health_timeout
        private = self.settings.allow_private_remotes
        failures = await asyncio.gather(*(check(p, private_remotes=private, timeout=timeout) for p in listed))
        self.passes += 1
        return await run_in_threadpool(self._record, list(zip(listed, failures, strict=True)))

    def release(self) -> None:
        with unit_of_work(self.engine, write=True) as session:
            leases.release(session, LEASE, self.holder)
