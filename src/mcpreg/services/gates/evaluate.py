"""Running one gate check, with no transaction open and no row locked while it waits on
the outside: a signed webhook POST (``services.webhooks``), or the test set through the
test-set part's ``services.testsets.gate.run_for_gate`` (imported when needed: a registry
without it answers an ``error`` result, never a stuck check).

On a public registry (``MCPREG_ALLOW_PRIVATE_REMOTES`` off) a webhook's host is resolved
first and the POST is not sent when any of its addresses is private or local, so a public
name pointed at 127.0.0.1 cannot reach the registry's own network (``domain.addresses``).
The connection resolves the name again; an answer that changes in between (DNS rebinding)
is not caught here, unlike the gateway, which pins the address it checked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import sqlalchemy as sa

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.db.gate_tables import StoredGate
from mcpreg.db.types import utcnow
from mcpreg.domain.gates import ERROR, FAIL, PASS, WEBHOOK, GateOutcome
from mcpreg.errors import RegistryError
from mcpreg.services import webhooks
from mcpreg.services.gates.checks import EVENT, Check
from mcpreg.services.gates.store import secret_of
from mcpreg.settings import Settings

log = logging.getLogger("mcpreg.gates")


@dataclass(frozen=True)
class Result:
    result: str
    http_status: int | None = None
    failure: str | None = None
    failing: tuple[str, ...] = ()
    elapsed_ms: float | None = None
    delivery_id: str | None = None
    testset_run_id: int | None = None


def _webhook(check: Check, secret: str | None, settings: Settings) -> Result:
    if secret is None or check.gate.url is None:
        return Result(ERROR, failure="the webhook gate has no url or secret")
    refused = webhooks.refused_host(check.gate.url, private_remotes=settings.allow_private_remotes)
    if refused is not None:
        return Result(ERROR, failure=refused)
    sent = webhooks.deliver(check.gate.url, EVENT, check.payload, secret, check.gate.timeout)
    return Result(
        PASS if sent.ok else FAIL,
        http_status=sent.status,
        failure=None if sent.ok else sent.error,
        elapsed_ms=sent.elapsed_ms,
        delivery_id=sent.delivery_id,
    )


def _testset(check: Check, engine: sa.Engine, keyring: KeyRing, settings: Settings) -> Result:
    try:
        from mcpreg.services.testsets.gate import run_for_gate  # the test-set part's hook
    except ImportError:
        return Result(ERROR, failure="test sets are not available in this registry")
    assert check.gate.testset is not None
    outcome: GateOutcome = run_for_gate(
        engine,
        keyring,
        settings,
        server=check.server,
        environment=check.environment,
        version=check.version,
        testset=check.gate.testset,
    )
    failing = tuple(outcome.failing)
    failure = None
    if not outcome.passed:
        failure = outcome.detail
        if failing:
            failure = f"{outcome.detail} (failing: {', '.join(failing)})"
    return Result(
        PASS if outcome.passed else FAIL, failure=failure, failing=failing, testset_run_id=outcome.run_id
    )


def evaluate(check: Check, engine: sa.Engine, keyring: KeyRing, settings: Settings) -> Result:
    """Run one check; nothing here holds a transaction while waiting on the outside."""
    started = utcnow()
    try:
        if check.gate.kind == WEBHOOK:
            with unit_of_work(engine) as session:
                row = session.get(StoredGate, check.gate_id)
                secret = secret_of(keyring, row) if row is not None else None
            return _webhook(check, secret, settings)
        result = _testset(check, engine, keyring, settings)
    except RegistryError as exc:
        return Result(ERROR, failure=f"{exc.code}: {exc.detail}")
    except Exception as exc:  # a bug in a runner is an error result, logged, never a stuck check
        log.exception("gate %s of deployment %s failed to run", check.gate.name, check.deployment_id)
        return Result(ERROR, failure=type(exc).__name__)
    if result.elapsed_ms is None:
        elapsed = (utcnow() - started).total_seconds() * 1000.0
        result = replace(result, elapsed_ms=round(elapsed, 1))
    return result
