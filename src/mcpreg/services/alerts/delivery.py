"""Delivering firings by webhook: claimed in one transaction, sent outside any, recorded after.

A firing is due while its delivery is ``pending`` and its ``next_attempt_at`` has come.
``claim`` takes one attempt by a compare-and-set on (attempts, next_attempt_at): of two
replicas only one moves the row, and the claimed row is held for the webhook's timeout
plus ``CLAIM_MARGIN`` (a replica that dies mid-delivery leaves it to be retried then).
``send`` POSTs it with ``services.webhooks.deliver`` (signed with the rule's secret, which
is unsealed for that one call and never logged), and ``record`` stores the attempt:
``delivered`` on a 2xx, else retried after ``domain.alerts.retry_delay`` until
``MAX_ATTEMPTS``, then ``failed``. A firing whose rule was removed is ``dropped``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing
from mcpreg.db.alert_tables import AlertFiring, AlertRule
from mcpreg.db.deploy_tables import Environment
from mcpreg.domain.alerts import DELIVERED, DROPPED, FAILED, MAX_ATTEMPTS, PENDING, retry_delay
from mcpreg.domain.timestamps import rfc3339
from mcpreg.errors import SecretDecryptFailed
from mcpreg.services import webhooks
from mcpreg.services.alerts.rules import secret_of

EVENT = "alert"  # X-Mcpreg-Event
CLAIM_MARGIN = 30.0  # seconds a claimed attempt is held beyond its timeout


@dataclass(frozen=True)
class Claimed:
    """One attempt this replica holds: where to send what (the secret kept out of ``repr``)."""

    firing_id: int
    attempt: int
    url: str
    timeout: float
    payload: dict[str, Any]
    secret: str = field(repr=False)
    problem: str | None = None  # why it cannot be sent (then it counts as a failed attempt)


def due(session: Session, now: datetime, limit: int = 100) -> list[int]:
    return [
        firing_id
        for firing_id in session.exec(
            select(AlertFiring.id)
            .where(AlertFiring.delivery == PENDING, col(AlertFiring.next_attempt_at) <= now)
            .order_by(col(AlertFiring.id))
            .limit(limit)
        )
        if firing_id is not None
    ]


def payload(firing: AlertFiring, attempt: int) -> dict[str, Any]:
    """The JSON body of an alert webhook."""
    return {
        "id": firing.id,
        "rule": firing.rule_name,
        "kind": firing.kind,
        "environment": firing.environment,
        "server": firing.server_name,
        "version": firing.version,
        "summary": firing.summary,
        "numbers": orjson.loads(firing.numbers),
        "firedAt": rfc3339(firing.fired_at),
        "attempt": attempt,
    }


def claim(session: Session, keyring: KeyRing, firing_id: int, now: datetime) -> Claimed | None:
    """Take the next attempt of a due firing, or None (not due, or another replica took it)."""
    firing = session.get(AlertFiring, firing_id)
    if firing is None or firing.delivery != PENDING or firing.next_attempt_at is None:
        return None
    if firing.next_attempt_at > now:
        return None
    found = session.exec(
        select(AlertRule, Environment.name)
        .join(Environment, col(Environment.id) == col(AlertRule.environment_id))
        .where(AlertRule.id == firing.rule_id)
    ).first()
    seen = firing.attempts
    timeout = found[0].timeout_seconds if found is not None else 0.0
    moved = session.execute(
        sa.update(AlertFiring)
        .where(
            col(AlertFiring.id) == firing_id,
            col(AlertFiring.delivery) == PENDING,
            col(AlertFiring.attempts) == seen,
            col(AlertFiring.next_attempt_at) <= now,
        )
        .values(
            attempts=seen + (found is not None),
            next_attempt_at=None if found is None else now + timedelta(seconds=timeout + CLAIM_MARGIN),
            delivery=PENDING if found is not None else DROPPED,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1 or found is None:
        return None
    rule, env = found
    try:
        secret, problem = secret_of(keyring, env, rule), None
    except SecretDecryptFailed:  # sealed under a key no longer in the ring: a failed attempt
        secret, problem = "", "the rule's signing secret cannot be unsealed with this key ring; set it again"
    return Claimed(firing_id, seen + 1, rule.url, timeout, payload(firing, seen + 1), secret, problem)


def send(claimed: Claimed, client: httpx.Client | None = None, *, private_remotes: bool) -> webhooks.Delivery:
    """The POST itself: call it outside any transaction. On a public registry a host that
    resolves to a private address is not sent to (the gates' rule: a failed attempt)."""
    problem = claimed.problem or webhooks.refused_host(claimed.url, private_remotes=private_remotes)
    if problem is not None:
        return webhooks.Delivery(str(uuid.uuid4()), None, False, problem, 0.0)
    return webhooks.deliver(
        claimed.url, EVENT, claimed.payload, claimed.secret, claimed.timeout, client=client
    )


def record(session: Session, claimed: Claimed, outcome: webhooks.Delivery, now: datetime) -> str:
    """Store one attempt's outcome; the firing's delivery status after it."""
    firing = session.get(AlertFiring, claimed.firing_id)
    if firing is None or firing.attempts != claimed.attempt or firing.delivery != PENDING:
        return firing.delivery if firing is not None else DROPPED  # the claim lapsed; a later attempt owns it
    log = orjson.loads(firing.attempt_log)
    log.append(
        {
            "attempt": claimed.attempt,
            "at": rfc3339(now),
            "status": outcome.status,
            "error": outcome.error,
            "elapsedMs": outcome.elapsed_ms,
            "deliveryId": outcome.delivery_id,
        }
    )
    firing.attempt_log = orjson.dumps(log).decode()
    if outcome.ok:
        firing.delivery, firing.delivered_at, firing.next_attempt_at = DELIVERED, now, None
    elif claimed.attempt >= MAX_ATTEMPTS:
        firing.delivery, firing.next_attempt_at = FAILED, None
    else:
        firing.next_attempt_at = now + timedelta(seconds=retry_delay(claimed.attempt))
    session.add(firing)
    session.flush()
    return firing.delivery


def attempts_of(firing: AlertFiring) -> list[dict[str, Any]]:
    return list(orjson.loads(firing.attempt_log))
