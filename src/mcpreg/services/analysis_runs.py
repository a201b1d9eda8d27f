"""Reading canary analysis verdicts (``analysis_run``) and the analysis a rollout follows.

Only reads: ``services.deploy.rollouts`` asks ``step_passed`` before a timed step of an analysed
rollout advances, and ``services.analysis`` (which writes verdicts and acts on them)
builds on these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.analysis_tables import AnalysisRun
from mcpreg.db.deploy_tables import DeploymentState
from mcpreg.domain.analysis import Analysis, analysis_from, step_may_advance

Latest = sa.orm.aliased(AnalysisRun)  # the outer row of ``step_passed``'s latest-interval query


def analysis_of(state: DeploymentState) -> Analysis | None:
    return analysis_from(orjson.loads(state.rollout_analysis)) if state.rollout_analysis else None


def verdicts(session: Session, rollout_id: str) -> list[AnalysisRun]:
    """Every verdict of a rollout, oldest first."""
    return list(
        session.exec(
            select(AnalysisRun).where(AnalysisRun.rollout_id == rollout_id).order_by(col(AnalysisRun.id))
        ).all()
    )


def verdict_counts(session: Session, rollout_id: str) -> dict[int, dict[str, int]]:
    """How many intervals of each check of a rollout got each verdict (counted in SQL:
    a decision needs the counts only, not every verdict)."""
    rows = session.execute(
        sa.select(col(AnalysisRun.check_index), col(AnalysisRun.verdict), sa.func.count())
        .where(col(AnalysisRun.rollout_id) == rollout_id)
        .group_by(col(AnalysisRun.check_index), col(AnalysisRun.verdict))
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for check, verdict, count in rows:
        counts.setdefault(check, {})[verdict] = count
    return counts


def tally(runs: list[AnalysisRun]) -> dict[int, dict[str, int]]:
    """``verdict_counts`` of verdicts already read."""
    counts: dict[int, dict[str, int]] = {}
    for run in runs:
        per_check = counts.setdefault(run.check_index, {})
        per_check[run.verdict] = per_check.get(run.verdict, 0) + 1
    return counts


def runs_with(session: Session, rollout_id: str, check: int | None, verdict: str) -> list[AnalysisRun]:
    """The verdicts ``verdict`` of one check of a rollout, oldest first (what an action cites)."""
    return list(
        session.exec(
            select(AnalysisRun)
            .where(
                AnalysisRun.rollout_id == rollout_id,
                AnalysisRun.check_index == check,
                AnalysisRun.verdict == verdict,
            )
            .order_by(col(AnalysisRun.id))
        ).all()
    )


def step_passed(session: Session, state: DeploymentState) -> bool:
    """Whether the latest interval of every check in the current step passed (a step of a
    rollout without an analysis always may advance). Reads one verdict per check."""
    analysis = analysis_of(state)
    if analysis is None or state.rollout_id is None:
        return True
    latest = sa.select(sa.func.max(col(AnalysisRun.interval_index))).where(
        col(AnalysisRun.rollout_id) == state.rollout_id,
        col(AnalysisRun.step) == state.rollout_index,
        col(AnalysisRun.check_index) == col(Latest.check_index),
    )
    rows = session.execute(
        sa.select(col(Latest.check_index), col(Latest.verdict)).where(
            col(Latest.rollout_id) == state.rollout_id,
            col(Latest.step) == state.rollout_index,
            col(Latest.interval_index) == latest.scalar_subquery(),
        )
    ).all()
    return step_may_advance(analysis, {check: verdict for check, verdict in rows})


@dataclass(frozen=True)
class Judged:
    """One interval's verdict on one check, with the numbers it was judged on."""

    step: int
    check: int
    kind: str
    interval: int
    started_at: datetime
    ended_at: datetime
    verdict: str
    numbers: dict[str, Any]
    decided_at: datetime

    @classmethod
    def of(cls, run: AnalysisRun) -> Judged:
        return cls(
            step=run.step,
            check=run.check_index,
            kind=run.kind,
            interval=run.interval_index,
            started_at=run.started_at,
            ended_at=run.ended_at,
            verdict=run.verdict,
            numbers=orjson.loads(run.numbers),
            decided_at=run.decided_at,
        )
