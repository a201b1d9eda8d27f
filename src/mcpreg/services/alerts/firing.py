"""When alerts fire and resolve: conditions judged from a read, firings written once.

``plan`` only reads: for every ``errorRate`` and ``health`` rule, each version that is stable
or canary of a matching server in the rule's environment is judged (``domain.alerts``), and
set against the open firings: a condition that holds with no open firing is to fire, an
open firing whose condition stopped (or whose version is no longer deployed) is to resolve,
and too little traffic changes nothing. ``apply`` writes that plan: a firing's ``open_key``
is unique, so when two replicas plan the same firing the second insert fails and is
dropped; a resolve updates only a firing still open. ``rollback`` records the firing of
every ``rollback`` rule when the canary analysis aborts a rollout (``event_key``: once per
rollout). Each firing and each resolve is journaled; the webhook is sent later, outside any
transaction (``services.alerts.delivery``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.alert_tables import AlertFiring, AlertRule
from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.health_tables import VersionHealth
from mcpreg.domain.alerts import (
    ERROR_RATE,
    HEALTH,
    PENDING,
    ROLLBACK,
    Rule,
    error_rate_breached,
    health_breached,
)
from mcpreg.services import journal, traffic
from mcpreg.services.alerts.rules import rule_of

ACTOR = "alerts"  # the journal's actor of firings and resolves
Key = tuple[int, str, str]  # rule id, server, version


@dataclass(frozen=True)
class Breach:
    """A condition that holds now: what fires if no firing of it is open."""

    rule_id: int
    rule_name: str
    kind: str
    environment: str
    server: str
    version: str
    summary: str
    numbers: dict[str, Any]

    @property
    def key(self) -> Key:
        return self.rule_id, self.server, self.version


@dataclass
class Plan:
    fire: list[Breach] = field(default_factory=list)
    resolve: list[int] = field(default_factory=list)  # firing ids

    def __bool__(self) -> bool:
        return bool(self.fire or self.resolve)


def open_key(key: Key) -> str:
    return f"{key[0]}|{key[1]}|{key[2]}"


def _deployed(session: Session, env_id: int, server: str | None) -> list[tuple[str, str, str]]:
    """(server, version, track) of everything stable or canary in the environment."""
    query = select(DeploymentState).where(
        DeploymentState.environment_id == env_id, col(DeploymentState.stable_version).is_not(None)
    )
    if server is not None:
        query = query.where(DeploymentState.server_name == server)
    found = []
    for state in session.exec(query):
        for version, track in ((state.stable_version, "stable"), (state.canary_version, "canary")):
            if version:
                found.append((state.server_name, version, track))
    return found


def _judge_error_rate(
    session: Session,
    rule_id: int,
    name: str,
    rule: Rule,
    env: str,
    deployed: list[tuple[str, str, str]],
    now: datetime,
) -> dict[Key, Breach | None]:
    window = rule.window or 0
    judged: dict[Key, Breach | None] = {}
    since = now - timedelta(seconds=window)
    counts = traffic.error_counts(session, env, sorted({s for s, _v, _t in deployed}), since, now)
    for server, version, track in deployed:
        requests, errors = counts.get((server, version), (0, 0))
        breached = error_rate_breached(rule, requests, errors)
        if breached is None:
            continue  # too little traffic: no verdict, nothing fires or resolves
        key = (rule_id, server, version)
        numbers = {
            "requests": requests,
            "errors": errors,
            "errorRate": round(errors / requests, 6),
            "threshold": rule.threshold,
            "windowSeconds": window,
            "minRequests": rule.min_requests,
            "track": track,
        }
        judged[key] = (
            Breach(
                rule_id,
                name,
                ERROR_RATE,
                env,
                server,
                version,
                f"{server}@{version} ({track}) in {env}: error rate {errors / requests:.1%} over "
                f"{window} s ({errors} of {requests} requests), above {rule.threshold:.1%}",
                numbers,
            )
            if breached
            else None
        )
    return judged


def _judge_health(
    session: Session,
    rule_id: int,
    name: str,
    rule: Rule,
    env: str,
    env_id: int,
    deployed: list[tuple[str, str, str]],
) -> dict[Key, Breach | None]:
    rows = session.exec(select(VersionHealth).where(VersionHealth.environment_id == env_id)).all()
    health = {(r.server_name, r.version): r for r in rows}
    judged: dict[Key, Breach | None] = {}
    for server, version, track in deployed:
        row = health.get((server, version))
        if row is None:
            continue  # not checked yet: no verdict
        key = (rule_id, server, version)
        numbers = {"state": row.state, "failures": row.failures, "track": track, "detail": row.detail}
        judged[key] = (
            Breach(
                rule_id,
                name,
                HEALTH,
                env,
                server,
                version,
                f"{server}@{version} ({track}) in {env} is {row.state}"
                + (f": {row.detail}" if row.detail else ""),
                numbers,
            )
            if health_breached(rule, row.state)
            else None
        )
    return judged


def plan(session: Session, now: datetime, *, error_rates: bool = True) -> Plan:
    """What to fire and what to resolve now (reads only). Without ``error_rates`` the
    ``errorRate`` rules (which read their window's traffic) are left as they are."""
    rows = session.exec(
        select(AlertRule, Environment.name)
        .join(Environment, col(Environment.id) == col(AlertRule.environment_id))
        .where(col(AlertRule.kind).in_((ERROR_RATE, HEALTH)))
    ).all()
    opened = {
        f.open_key: f
        for f in session.exec(
            select(AlertFiring).where(
                col(AlertFiring.open_key).is_not(None), col(AlertFiring.kind) != ROLLBACK
            )
        )
    }
    result = Plan()
    judged: dict[Key, Breach | None] = {}
    rule_ids = set()
    for row, env in rows:
        rule, rule_id = rule_of(row), row.id or 0
        rule_ids.add(rule_id)
        if rule.kind == ERROR_RATE and not error_rates:
            continue
        deployed = _deployed(session, row.environment_id, rule.server)
        if rule.kind == ERROR_RATE:
            judged.update(_judge_error_rate(session, rule_id, row.name, rule, env, deployed, now))
        else:
            judged.update(_judge_health(session, rule_id, row.name, rule, env, row.environment_id, deployed))
        deployed_keys = {(rule_id, s, v) for s, v, _t in deployed}
        for firing in opened.values():
            key = (rule_id, firing.server_name, firing.version or "")
            if firing.rule_id == rule_id and key not in deployed_keys:
                result.resolve.append(firing.id or 0)  # no longer deployed: nothing left to watch
    for key, breach in judged.items():
        held = opened.get(open_key(key))
        if breach is not None and held is None:
            result.fire.append(breach)
        elif breach is None and held is not None:
            result.resolve.append(held.id or 0)
    for firing in opened.values():
        if firing.rule_id not in rule_ids:
            result.resolve.append(firing.id or 0)  # its rule changed kind or went away
    result.resolve = sorted(set(result.resolve))
    return result


def _insert(session: Session, firing: AlertFiring) -> bool:
    """Insert one firing; False when another replica fired it first."""
    try:
        with session.begin_nested():
            session.add(firing)
            session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def _fired(session: Session, firing: AlertFiring) -> None:
    journal.record(
        session,
        ACTOR,
        "alert.fire",
        server_name=firing.server_name,
        version=firing.version,
        environment=firing.environment,
        after={
            "rule": firing.rule_name,
            "kind": firing.kind,
            "firing": firing.id,
            **orjson.loads(firing.numbers),
        },
        reason=firing.summary,
    )


def _new(breach: Breach, now: datetime, *, open_key: str | None, event_key: str | None = None) -> AlertFiring:
    return AlertFiring(
        rule_id=breach.rule_id,
        rule_name=breach.rule_name,
        kind=breach.kind,
        environment=breach.environment,
        server_name=breach.server,
        version=breach.version or None,
        summary=breach.summary,
        numbers=orjson.dumps(breach.numbers).decode(),
        fired_at=now,
        open_key=open_key,
        event_key=event_key,
        delivery=PENDING,
        next_attempt_at=now,
    )


def apply(session: Session, planned: Plan, now: datetime) -> tuple[int, int]:
    """Write a plan; how many firings this replica fired and resolved."""
    fired = resolved = 0
    for breach in planned.fire:
        firing = _new(breach, now, open_key=open_key(breach.key))
        if _insert(session, firing):
            fired += 1
            _fired(session, firing)
    for firing_id in planned.resolve:
        done = session.execute(
            sa.update(AlertFiring)
            .where(col(AlertFiring.id) == firing_id, col(AlertFiring.resolved_at).is_(None))
            .values(resolved_at=now, open_key=None)
        )
        if getattr(done, "rowcount", 0) == 1:
            resolved += 1
            ended = session.get(AlertFiring, firing_id)
            if ended is not None:
                journal.record(
                    session,
                    ACTOR,
                    "alert.resolve",
                    server_name=ended.server_name,
                    version=ended.version,
                    environment=ended.environment,
                    after={"rule": ended.rule_name, "kind": ended.kind, "firing": firing_id},
                )
    return fired, resolved


def rollback(
    session: Session,
    env_name: str,
    server: str,
    version: str | None,
    rollout_id: str,
    reason: str,
    numbers: dict[str, Any],
    now: datetime,
) -> int:
    """Fire every ``rollback`` rule of the environment watching ``server``: the canary
    analysis aborted rollout ``rollout_id`` of ``version``. How many fired."""
    rows = session.exec(
        select(AlertRule)
        .join(Environment, col(Environment.id) == col(AlertRule.environment_id))
        .where(Environment.name == env_name, AlertRule.kind == ROLLBACK)
    ).all()
    fired = 0
    for row in rows:
        if row.server_name is not None and row.server_name != server:
            continue
        breach = Breach(
            row.id or 0,
            row.name,
            ROLLBACK,
            env_name,
            server,
            version or "",
            f"{server}@{version} in {env_name} was rolled back automatically: {reason}",
            {"rolloutId": rollout_id, "reason": reason, **numbers},
        )
        firing = _new(breach, now, open_key=None, event_key=f"{row.id}|{rollout_id}")
        firing.resolved_at = now  # an event: nothing stays open
        if _insert(session, firing):
            fired += 1
            _fired(session, firing)
    return fired
