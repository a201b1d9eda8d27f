"""Alert rules of an environment: list, read, set (create or replace), remove.

Setting or removing a rule needs the ``deploy`` scope over the environment, reading needs
``read``; a token limited to namespaces reads and manages only rules of one of its servers
(a rule sends what it watches to its URL, so one watching every server needs a token
without namespace limits). Every change is journaled, without the
secret. The signing secret is sealed with the key ring under a context naming the
environment and the rule, so a sealed secret copied to another rule's row fails to open;
no read shows it, only that one is set. Removing a rule resolves its open firings and drops
their pending deliveries; its firings stay, as history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing, SecretContext, key_id_of, rewrap, seal, unseal
from mcpreg.db.alert_tables import AlertFiring, AlertRule
from mcpreg.db.deploy_tables import Environment
from mcpreg.db.types import utcnow
from mcpreg.domain.alerts import DROPPED, MAX_RULES, PENDING, Rule, RuleSpec, check_name
from mcpreg.domain.principal import Principal
from mcpreg.errors import NotFound, PermissionDenied, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.environments import get_environment
from mcpreg.services.releases import get_server
from mcpreg.services.tokens import require


@dataclass(frozen=True)
class RuleRecord:
    """A stored rule as a read shows it: never its secret."""

    environment: str
    name: str
    rule: Rule
    created_at: datetime
    updated_at: datetime
    updated_by: str


def rule_of(row: AlertRule) -> Rule:
    return Rule(
        kind=row.kind,
        url=row.url,
        server=row.server_name,
        threshold=row.threshold,
        window=row.window_seconds,
        min_requests=row.min_requests,
        state=row.state,
        timeout=row.timeout_seconds,
    )


def record_of(env: str, row: AlertRule) -> RuleRecord:
    return RuleRecord(env, row.name, rule_of(row), row.created_at, row.updated_at, row.updated_by)


def context(env: str, name: str) -> SecretContext:
    return SecretContext(server=f"alert:{env}", scope="environment", version="", environment=env, name=name)


def secret_of(keyring: KeyRing, env: str, row: AlertRule) -> str:
    """The rule's signing secret in clear, for signing one delivery only."""
    return unseal(keyring, row.secret, context(env, row.name))


def _find(session: Session, environment_id: int | None, name: str) -> AlertRule | None:
    return session.exec(
        select(AlertRule).where(AlertRule.environment_id == environment_id, AlertRule.name == name)
    ).first()


def _existing(session: Session, environment_id: int | None, env: str, name: str) -> AlertRule:
    row = _find(session, environment_id, name)
    if row is None:
        raise NotFound(f"no alert rule named {name!r} in {env}", field="name")
    return row


def exists(session: Session, env_name: str, name: str) -> bool:
    """Whether ``name`` is a rule of the environment (a PUT's secret may then be left out)."""
    env = get_environment(session, env_name)
    return _find(session, env.id, check_name(name)) is not None


def _covers(principal: Principal, server: str | None) -> bool:
    """A rule sends what it watches to its URL: a token limited to namespaces reads and manages
    only the rules of its own servers, never one watching the whole environment."""
    return principal.covers_server(server) if server is not None else not principal.namespaces


def _require_cover(principal: Principal, server: str | None) -> None:
    if not _covers(principal, server):
        raise PermissionDenied(
            f"the token may not manage alerts on {server!r}: outside its namespaces"
            if server is not None
            else "a token limited to namespaces manages only the alert rules of its own servers: give server",
            field="server",
            code="namespace_denied",
        )


def list_rules(session: Session, principal: Principal, env_name: str) -> list[RuleRecord]:
    """The environment's rules the caller covers (every rule, for a token without namespaces)."""
    require(principal, "read", environment=env_name)
    env = get_environment(session, env_name)
    rows = session.exec(
        select(AlertRule).where(AlertRule.environment_id == env.id).order_by(col(AlertRule.name))
    ).all()
    return [record_of(env.name, r) for r in rows if _covers(principal, r.server_name)]


def get_rule(session: Session, principal: Principal, env_name: str, name: str) -> RuleRecord:
    require(principal, "read", environment=env_name)
    env = get_environment(session, env_name)
    row = _existing(session, env.id, env.name, check_name(name))
    _require_cover(principal, row.server_name)
    return record_of(env.name, row)


def set_rule(
    session: Session, keyring: KeyRing, principal: Principal, env_name: str, name: str, spec: RuleSpec
) -> tuple[RuleRecord, bool]:
    """Create or replace the rule ``name``; the record and whether it was created."""
    rule = spec.rule
    require(principal, "deploy", environment=env_name)
    _require_cover(principal, rule.server)
    env = get_environment(session, env_name)
    check_name(name)
    server = get_server(session, rule.server).name if rule.server is not None else None
    row = _find(session, env.id, name)
    if row is not None:
        _require_cover(principal, row.server_name)  # nor repoint another team's rule
    created = row is None
    before = {"name": name, **rule_of(row).to_dict()} if row is not None else None
    if row is None:
        count = session.exec(
            select(sa.func.count()).select_from(AlertRule).where(AlertRule.environment_id == env.id)
        ).one()
        if count >= MAX_RULES:
            raise ValidationFailed(f"an environment holds at most {MAX_RULES} alert rules", field="name")
        if spec.secret is None:
            raise ValidationFailed("a new alert rule needs a signing secret", field="secret")
        row = AlertRule(
            environment_id=env.id or 0,
            name=name,
            kind=rule.kind,
            url=rule.url,
            secret="",
            timeout_seconds=rule.timeout,
            updated_by=principal.name,
        )
    row.kind, row.url, row.server_name = rule.kind, rule.url, server
    row.threshold, row.window_seconds, row.min_requests = rule.threshold, rule.window, rule.min_requests
    row.state, row.timeout_seconds = rule.state, rule.timeout
    if spec.secret is not None:
        row.secret = seal(keyring, spec.secret, context(env.name, name))
    row.updated_at, row.updated_by = utcnow(), principal.name
    session.add(row)
    session.flush()
    after = {"name": name, **rule_of(row).to_dict(), "secretChanged": spec.secret is not None}
    journal.record(session, principal, "alert.set", environment=env.name, before=before, after=after)
    return record_of(env.name, row), created


def delete_rule(session: Session, principal: Principal, env_name: str, name: str) -> None:
    require(principal, "deploy", environment=env_name)
    env = get_environment(session, env_name)
    row = _existing(session, env.id, env.name, check_name(name))
    _require_cover(principal, row.server_name)
    before = rule_of(row).to_dict()
    now = utcnow()
    session.execute(
        sa.update(AlertFiring)
        .where(col(AlertFiring.rule_id) == row.id, col(AlertFiring.open_key).is_not(None))
        .values(open_key=None, resolved_at=now)
    )
    session.execute(
        sa.update(AlertFiring)
        .where(col(AlertFiring.rule_id) == row.id, col(AlertFiring.delivery) == PENDING)
        .values(delivery=DROPPED, next_attempt_at=None)
    )
    session.delete(row)
    session.flush()
    journal.record(session, principal, "alert.delete", environment=env.name, before={"name": name, **before})


def reseal_secrets(session: Session, keyring: KeyRing) -> int:
    """Move every rule's secret sealed under an older key to the primary key (the data key is
    rewrapped, the secret never opened); part of ``mcpreg secrets rotate``. Returns how many."""
    moved = 0
    found = session.exec(
        select(AlertRule, Environment.name).join(
            Environment, col(Environment.id) == col(AlertRule.environment_id)
        )
    ).all()
    for row, env in found:
        if key_id_of(row.secret) != keyring.primary_id:
            row.secret = rewrap(keyring, row.secret, context(env, row.name))
            session.add(row)
            moved += 1
    return moved
