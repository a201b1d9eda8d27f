"""Canary analysis of running rollouts: judging intervals, and acting on the verdicts.

``analyse`` (the ``canary-analysis`` loop, on every replica) looks at each progressing
rollout with an analysis. For each check it judges every interval of the current step
that has ended (and whose traffic had ``settle`` seconds to reach the database), from
the gateway's traffic aggregates of the canary and of stable in that interval. A verdict
is stored once: ``analysis_run`` is unique per rollout, step, check and interval, so a
second replica's insert fails and is dropped.

Past a check's ``failureLimit`` the rollout is aborted by the actor ``analysis`` (canary
weight 0, stable serving), recorded with the numbers that failed it; past its
``inconclusiveLimit`` it is paused with the reason. Manual rollbacks and aborts go
through ``services.deploy.rollouts`` as ever and never wait for any of this.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.analysis_tables import AnalysisRun
from mcpreg.db.deploy_tables import DeploymentState, Environment
from mcpreg.db.types import utcnow
from mcpreg.domain.analysis import Analysis, Check, Decision, Sample, decide, judge
from mcpreg.domain.principal import Principal
from mcpreg.domain.traffic import quantile
from mcpreg.services import traffic
from mcpreg.services.alerts import firing as alert_firing
from mcpreg.services.analysis_runs import (
    Judged,
    analysis_of,
    runs_with,
    step_passed,
    tally,
    verdict_counts,
    verdicts,
)
from mcpreg.services.deploy import rollouts
from mcpreg.services.deploy.states import find_state, try_lock_state
from mcpreg.services.environments import get_environment
from mcpreg.services.releases import get_server
from mcpreg.services.tokens import require

ANALYST = Principal(name="analysis", scopes=frozenset({"admin"}), token_id=0)
MAX_INTERVALS = 1000  # intervals judged per check and step at most (a step paused for days)


def _samples(
    session: Session, state: DeploymentState, env: str, start: datetime, end: datetime
) -> tuple[Sample, Sample]:
    """The canary's and stable's traffic in one interval, from every replica's aggregates."""
    totals, _replicas = traffic.summed(session, env, state.server_name, start, end)

    def sample(version: str | None) -> Sample:
        total = totals.get(version) if version is not None else None
        if total is None:
            return Sample()
        errors = total.requests - total.outcomes.get("ok", 0)
        return Sample(total.requests, errors, quantile(total.buckets, 0.95))

    return sample(state.canary_version), sample(state.stable_version)


def _judged(session: Session, state: DeploymentState) -> dict[int, set[int]]:
    """The intervals of the current step already judged, per check (one query)."""
    done: dict[int, set[int]] = {}
    rows = session.exec(
        select(AnalysisRun.check_index, AnalysisRun.interval_index).where(
            AnalysisRun.rollout_id == state.rollout_id,
            AnalysisRun.step == state.rollout_index,
        )
    ).all()
    for check, interval in rows:
        done.setdefault(check, set()).add(interval)
    return done


def _store(session: Session, run: AnalysisRun) -> bool:
    """Insert one verdict; False when another replica judged that interval first."""
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except sa.exc.IntegrityError:
        return False
    return True


def _unjudged(
    session: Session, state: DeploymentState, analysis: Analysis, now: datetime, settle: float
) -> list[tuple[int, Check, int]]:
    """(check index, check, interval) of every ended, settled interval of the current step
    that has no verdict yet."""
    if state.step_started_at is None or state.rollout_id is None:
        return []
    judged = _judged(session, state)
    found = []
    for index, check in enumerate(analysis.checks):
        length = timedelta(seconds=check.interval)
        ended = int((now - timedelta(seconds=settle) - state.step_started_at) / length)
        done = judged.get(index, set())
        found += [
            (index, check, k) for k in range(max(0, ended - MAX_INTERVALS), max(0, ended)) if k not in done
        ]
    return found


def judge_due(session: Session, state: DeploymentState, env: str, now: datetime, settle: float) -> int:
    """Judge every ended, settled interval of the current step not judged yet; how many."""
    analysis = analysis_of(state)
    if analysis is None or state.step_started_at is None:
        return 0
    stored = 0
    for index, check, k in _unjudged(session, state, analysis, now, settle):
        length = timedelta(seconds=check.interval)
        start = state.step_started_at + k * length
        stored += _judge_one(session, state, env, index, check, k, start, start + length)
    return stored


def _acts(state: DeploymentState, decision: Decision) -> bool:
    """Whether a pass acts on ``decision``: an abort, or a pause of a timed step (a canary
    waiting for its promote already waits for a human: the report says why)."""
    return decision.action == "abort" or (
        decision.action == "pause" and state.rollout_status == "progressing"
    )


def _judge_one(
    session: Session,
    state: DeploymentState,
    env: str,
    index: int,
    check: Check,
    k: int,
    start: datetime,
    end: datetime,
) -> int:
    canary, stable = _samples(session, state, env, start, end)
    verdict, numbers = judge(check, canary, stable)
    run = AnalysisRun(
        state_id=state.id or 0,
        server_name=state.server_name,
        environment=env,
        rollout_id=state.rollout_id or "",
        step=state.rollout_index,
        check_index=index,
        interval_index=k,
        kind=check.kind,
        started_at=start,
        ended_at=end,
        verdict=verdict,
        numbers=orjson.dumps(numbers).decode(),
    )
    return int(_store(session, run))


def decision_of(analysis: Analysis, runs: list[AnalysisRun]) -> Decision:
    """The decision of verdicts already read (the analysis pass counts them in SQL instead)."""
    return decide(analysis, tally(runs))


@dataclass(frozen=True)
class Acted:
    server: str
    environment: str
    action: str  # "abort" or "pause"
    reason: str
    version: str | None = None  # the canary it acted on
    rollout_id: str | None = None


def _failing(runs: list[AnalysisRun]) -> list[dict[str, Any]]:
    return [
        {
            "step": r.step,
            "interval": r.interval_index,
            "startedAt": r.started_at.isoformat(),
            **orjson.loads(r.numbers),
        }
        for r in runs
    ]


ANALYSED = ("progressing", "paused_manual")  # a timed step, or a canary waiting for its promote


def _progressing() -> Any:
    return select(DeploymentState.id).where(
        col(DeploymentState.rollout_status).in_(ANALYSED), col(DeploymentState.rollout_analysis).is_not(None)
    )


def pending(session: Session) -> bool:
    """Whether any progressing rollout has an analysis (a cheap read)."""
    return session.exec(_progressing().limit(1)).first() is not None


def due(session: Session, now: datetime | None = None, *, settle: float = 6.0) -> bool:
    """Whether a pass would write anything: an ended interval to judge, or a decision to act
    on. Reads only, so replicas whose rollouts are mid-interval take no write lock."""
    now = now or utcnow()
    states = session.exec(select(DeploymentState).where(col(DeploymentState.id).in_(_progressing())))
    for state in states:
        analysis = analysis_of(state)
        if analysis is None or state.rollout_id is None:
            continue
        if _unjudged(session, state, analysis, now, settle):
            return True
        if _acts(state, decide(analysis, verdict_counts(session, state.rollout_id))):
            return True
    return False


def analyse(session: Session, now: datetime | None = None, *, settle: float = 6.0) -> tuple[int, list[Acted]]:
    """One pass over every progressing rollout with an analysis: verdicts stored, actions taken."""
    now = now or utcnow()
    ids = session.exec(_progressing()).all()
    stored, acted = 0, []
    for state_id in ids:
        state = try_lock_state(session, state_id or 0)
        if state is None or state.rollout_status not in ANALYSED or state.rollout_id is None:
            continue  # another replica or a request holds it: it is judged on the next pass
        env = session.get(Environment, state.environment_id)
        analysis = analysis_of(state)
        if env is None or analysis is None:
            continue
        stored += judge_due(session, state, env.name, now, settle)
        rollout_id, canary = state.rollout_id, state.canary_version
        decision = decide(analysis, verdict_counts(session, rollout_id))
        if not _acts(state, decision):
            continue
        verdict = "fail" if decision.action == "abort" else "inconclusive"
        detail = {
            "analysis": decision.reason,
            "check": decision.check,
            "intervals": _failing(runs_with(session, rollout_id, decision.check, verdict)),
        }
        rollouts.transition(
            session,
            ANALYST,
            state.server_name,
            env.name,
            decision.action,
            notes=decision.reason,
            detail=detail,
            now=now,
        )
        acted.append(Acted(state.server_name, env.name, decision.action, decision.reason, canary, rollout_id))
        if decision.action == "abort":  # an automatic rollback: the rollback alerts fire with it
            alert_firing.rollback(
                session, env.name, state.server_name, canary, rollout_id, decision.reason, detail, now
            )
    return stored, acted


@dataclass(frozen=True)
class Decided:
    """What the verdicts so far decide (``reason`` None: nothing to say)."""

    action: str
    check: int | None
    reason: str | None


@dataclass(frozen=True)
class AnalysisReport:
    """The analysis a target's rollout follows, whether its step may advance, and its verdicts."""

    server: str
    environment: str
    rollout_id: str | None
    status: str | None
    step: int | None
    analysis: dict[str, Any] | None
    step_passed: bool | None
    decision: Decided | None
    runs: list[Judged]


def report(session: Session, principal: Principal, env_name: str, server_name: str) -> AnalysisReport:
    """The analysis in force on the target's rollout, its verdicts (newest first) and its decision."""
    require(principal, "read", server=server_name, environment=env_name)
    env = get_environment(session, env_name)
    server = get_server(session, server_name)
    state = find_state(session, server, env)
    followed = analysis_of(state) if state is not None else None
    runs = verdicts(session, state.rollout_id) if state is not None and state.rollout_id else []
    decision = decision_of(followed, runs) if followed is not None else None
    decided = Decided(decision.action, decision.check, decision.reason or None) if decision else None
    return AnalysisReport(
        server=server.name,
        environment=env.name,
        rollout_id=state.rollout_id if state is not None else None,
        status=state.rollout_status if state is not None else None,
        step=state.rollout_index if state is not None else None,
        analysis=followed.to_dict() if followed is not None else None,
        step_passed=step_passed(session, state) if state is not None and followed is not None else None,
        decision=decided,
        runs=[Judged.of(r) for r in reversed(runs)],
    )
