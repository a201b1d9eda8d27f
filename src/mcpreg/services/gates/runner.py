"""The gate runner (the ``gate-runner`` loop): finds due checks, runs them outside any
transaction, stores each attempt, and lets through what passed.

One pass (``run_once``):

1. reads, in a short transaction, every check that is due: a ``held`` deployment's
   ``deploy`` gates; the next step's gates of a rollout whose timed step came due; the next
   (and final) step's gates of a rollout waiting at a manual step, so a promote finds them
   passed. A gate is due when it has no attempt yet, or its latest failed and its
   ``retry_at`` came (backoff: ``domain.gates.backoff``);
2. claims each check by inserting its attempt as ``running`` (unique per deployment, point,
   step, gate and attempt: with several replicas one insert wins, the others skip it);
3. runs it with no transaction open and no row locked (a webhook POST, or the test set
   through ``services.testsets.gate.run_for_gate``; up to ``MAX_PARALLEL`` checks side by
   side), then writes the result, with a ``gate`` history event when a check first holds
   and when the last gate of a check passes;
4. applies each held deployment whose gates all passed, and takes each due step whose
   gates all passed (``rollouts.catch_up``).

An attempt left ``running`` by a replica that died is given up as ``error`` once it is
older than its timeout plus ``STALE_AFTER`` seconds, and the next attempt goes ahead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col

from mcpreg.crypto import KeyRing
from mcpreg.db.deploy_tables import Deployment, DeploymentState, Environment
from mcpreg.db.engine import unit_of_work
from mcpreg.db.gate_tables import GateRun
from mcpreg.db.tables import Server
from mcpreg.db.types import utcnow
from mcpreg.domain.gates import ERROR, PASS, RUNNING, backoff
from mcpreg.domain.principal import SYSTEM
from mcpreg.domain.timestamps import rfc3339
from mcpreg.services.deploy.events import record_event
from mcpreg.services.deploy.states import lock_state, snapshot
from mcpreg.services.gates.advance import apply_held, take_steps
from mcpreg.services.gates.checks import EVENT, Check, due_checks, pending
from mcpreg.services.gates.evaluate import Result, evaluate
from mcpreg.services.gates.runs import waits
from mcpreg.settings import Settings

log = logging.getLogger("mcpreg.gates")

MAX_PARALLEL = 8  # checks run at once in one pass


@dataclass
class RunnerReport:
    ran: int = 0
    passed: int = 0
    held: int = 0
    applied: int = 0
    steps: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.ran or self.applied or self.steps)


def claim(engine: sa.Engine, check: Check, now: datetime) -> int | None:
    """Insert the check's attempt as ``running``; None when another runner has it."""
    try:
        with unit_of_work(engine, write=True) as session:
            if check.stale_run_id is not None:
                session.execute(
                    sa.update(GateRun)
                    .where(col(GateRun.id) == check.stale_run_id, col(GateRun.result) == RUNNING)
                    .values(result=ERROR, failure="the runner of this attempt was lost", finished_at=now)
                )
            run = GateRun(
                environment_id=check.environment_id,
                server_name=check.server,
                deployment_id=check.deployment_id,
                rollout_id=check.rollout_id,
                version=check.version,
                point=check.point,
                step=check.step,
                gate_name=check.gate.name,
                gate_kind=check.gate.kind,
                attempt=check.attempt,
                result=RUNNING,
                started_at=now,
            )
            session.add(run)
            session.flush()
            return run.id
    except sa.exc.IntegrityError:
        return None


def finish(engine: sa.Engine, run_id: int, check: Check, result: Result, now: datetime) -> None:
    """Store the result of an attempt; record history when the check first holds, or passes.

    The target's state row is locked first, so two gates of one check finishing at once
    take turns, and the second sees the first's result when it asks what still waits."""
    retry_at = (
        None if result.result == PASS else now + timedelta(seconds=backoff(check.attempt, check.gate.retry))
    )
    with unit_of_work(engine, write=True) as session:
        deployment = session.get(Deployment, check.deployment_id)
        found = _target(session, deployment) if deployment is not None else None
        run = session.get(GateRun, run_id)
        assert run is not None
        run.result, run.http_status, run.failure = result.result, result.http_status, result.failure
        run.failing = orjson.dumps(list(result.failing)).decode() if result.failing else None
        run.elapsed_ms, run.delivery_id, run.testset_run_id = (
            result.elapsed_ms,
            result.delivery_id,
            result.testset_run_id,
        )
        run.finished_at, run.retry_at = now, retry_at
        session.add(run)
        session.flush()
        if deployment is None or found is None:
            return
        if result.result == PASS:
            if waits(session, deployment, check.point, check.step):
                return
            detail: dict[str, Any] = {"point": check.point, "step": check.step, "passed": True}
        elif check.attempt == 1:
            detail = {
                "point": check.point,
                "step": check.step,
                "gate": check.gate.name,
                "result": result.result,
                "failure": result.failure,
                "retryAt": rfc3339(retry_at),
            }
        else:
            return
        state, env = found
        record_event(
            session,
            state,
            env,
            SYSTEM,
            EVENT,
            snapshot(state),
            now,
            version=deployment.version,
            detail=detail,
        )


def _target(session: Session, deployment: Deployment) -> tuple[DeploymentState, Environment] | None:
    """The deployment's state row, locked, and its environment."""
    server = session.get(Server, deployment.server_id)
    env = session.get(Environment, deployment.environment_id)
    if server is None or env is None:
        return None
    return lock_state(session, server, env), env


def _attempt(
    check: Check, engine: sa.Engine, keyring: KeyRing, settings: Settings, clock: Callable[[], datetime]
) -> Result | None:
    """Claim, run and store one check; None when another runner has it."""
    run_id = claim(engine, check, clock())
    if run_id is None:
        return None
    result = evaluate(check, engine, keyring, settings)
    finish(engine, run_id, check, result, clock())
    if result.result != PASS:
        log.warning(
            "gate %s (%s) of %s in %s holds %s step %d: %s (attempt %d)",
            check.gate.name,
            check.gate.kind,
            check.server,
            check.environment,
            check.point,
            check.step,
            result.failure,
            check.attempt,
        )
    return result


def run_once(
    engine: sa.Engine, keyring: KeyRing, settings: Settings, now: datetime | None = None
) -> RunnerReport:
    """One pass of the runner (see the module's docstring). ``now`` (tests) fixes the clock
    of the pass; without it, each result is stored, and its retry timed, when it came."""
    fixed = now

    def clock() -> datetime:
        return fixed if fixed is not None else utcnow()

    now = clock()
    report = RunnerReport()
    with unit_of_work(engine) as session:
        if not pending(session):
            return report
        checks = due_checks(session, now)
    if checks:
        # Checks wait on the outside (a webhook's timeout, a test set's calls): side by side.
        workers = min(MAX_PARALLEL, len(checks))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gate-check") as pool:
            results = list(pool.map(lambda c: _attempt(c, engine, keyring, settings, clock), checks))
        done = [r for r in results if r is not None]
        report.ran = len(done)
        report.passed = sum(r.result == PASS for r in done)
        report.held = report.ran - report.passed
    report.applied = apply_held(engine, clock())
    report.steps = take_steps(engine, clock())
    return report
