"""Reading the firings of an environment's alerts, newest first (``read`` over it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlmodel import Session, col, select

from mcpreg.db.alert_tables import AlertFiring
from mcpreg.domain.alerts import check_name
from mcpreg.domain.principal import Principal
from mcpreg.services.environments import get_environment
from mcpreg.services.tokens import require


@dataclass(frozen=True)
class FiringRecord:
    id: int
    rule: str
    kind: str
    environment: str
    server: str
    version: str | None
    summary: str
    numbers: dict[str, Any]
    fired_at: datetime
    resolved_at: datetime | None
    delivery: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    attempt_log: list[dict[str, Any]]


def record_of(row: AlertFiring) -> FiringRecord:
    return FiringRecord(
        id=row.id or 0,
        rule=row.rule_name,
        kind=row.kind,
        environment=row.environment,
        server=row.server_name,
        version=row.version,
        summary=row.summary,
        numbers=orjson.loads(row.numbers),
        fired_at=row.fired_at,
        resolved_at=row.resolved_at,
        delivery=row.delivery,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        attempt_log=orjson.loads(row.attempt_log),
    )


def list_firings(
    session: Session, principal: Principal, env_name: str, *, rule: str | None = None, limit: int = 50
) -> list[FiringRecord]:
    """The newest ``limit`` firings of the environment (of one rule), on servers the caller covers."""
    require(principal, "read", environment=env_name)
    env = get_environment(session, env_name)
    query = select(AlertFiring).where(AlertFiring.environment == env.name)
    if rule is not None:
        query = query.where(AlertFiring.rule_name == check_name(rule, "rule"))
    rows = session.exec(query.order_by(col(AlertFiring.id).desc()).limit(limit)).all()
    return [record_of(r) for r in rows if principal.covers_server(r.server_name)]
