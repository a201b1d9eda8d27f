"""Alerts: rules per environment (``rules``), firing and resolving (``firing``), and the
webhook deliveries (``delivery``); ``run_once`` is one pass of the ``alerts`` loop.

A pass reads first (the plan, and the deliveries due): a replica with nothing to do takes
no write lock. It then writes the plan in one transaction, and sends the due deliveries
(``SENDERS`` at once) with no transaction open: each claimed in one, POSTed, recorded in
another. Run on every
replica at once, a condition still fires once (unique keys) and each attempt is sent by
one replica (the claim).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import httpx
import sqlalchemy as sa

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.db.types import utcnow
from mcpreg.domain.alerts import DELIVERED, FAILED
from mcpreg.services.alerts import delivery, firing

SENDERS = 8  # webhooks of one pass sent at once, at most


@dataclass(frozen=True)
class PassReport:
    fired: int = 0
    resolved: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.fired or self.resolved)


def run_once(
    engine: sa.Engine,
    keyring: KeyRing,
    now: datetime | None = None,
    *,
    client: httpx.Client | None = None,
    error_rates: bool = True,
    private_remotes: bool = False,
) -> PassReport:
    """Fire and resolve what changed, then send every delivery that is due (``error_rates``:
    judge the ``errorRate`` rules too; the loop does every ``ERROR_RATE_EVERY`` seconds;
    ``private_remotes``: ``MCPREG_ALLOW_PRIVATE_REMOTES``, else no POST to a private address)."""
    now = now or utcnow()
    with unit_of_work(engine) as session:
        planned = firing.plan(session, now, error_rates=error_rates)
        due = delivery.due(session, now)
    fired = resolved = 0
    if planned:
        with unit_of_work(engine, write=True) as session:
            fired, resolved = firing.apply(session, planned, now)
        with unit_of_work(engine) as session:
            due = delivery.due(session, now)
    claims = []
    for firing_id in due:
        with unit_of_work(engine, write=True) as session:
            claimed = delivery.claim(session, keyring, firing_id, now)
        if claimed is not None:
            claims.append(claimed)
    # The POSTs at once, no transaction open: one slow receiver does not hold the others up.
    with ThreadPoolExecutor(max_workers=max(1, min(SENDERS, len(claims)))) as senders:
        outcomes = list(
            senders.map(lambda c: delivery.send(c, client, private_remotes=private_remotes), claims)
        )
    delivered = retrying = failed = 0
    for claimed, outcome in zip(claims, outcomes, strict=True):
        with unit_of_work(engine, write=True) as session:
            status = delivery.record(session, claimed, outcome, now)
        delivered += status == DELIVERED
        failed += status == FAILED
        retrying += status not in (DELIVERED, FAILED)
    return PassReport(fired, resolved, delivered, retrying, failed)
