"""Reading canary analysis verdicts (``analysis_run``) and the analysis a rollout follows.

Only reads: ``services.deploy.rollouts`` asks ``step_passed`` before a timed step of an analysed
rollout advances, and ``services.analysis`` (which writes verdicts and acts on them)
builds on these.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlmodel import Session, col, select

from mcpreg.db.analysis_tables import AnalysisRun
from mcpreg.db.deploy_tables import DeploymentState
from mcpreg.domain.analysis import Analysis, analysis_from


def analysis_of(state: DeploymentState) -> Analysis | None:
    return analysis_from(orjson.loads(state.rollout_analysis)) if state.rollout_analysis else None


def verdicts(session: Session, rollout_id: str) -> list[AnalysisRun]:
    """Every verdict of a rollout, oldest first."""
    return list(
        session.exec(
            select(AnalysisRun).where(AnalysisRun.rollout_id == rollout_id).order_by(col(AnalysisRun.id))
        ).all()
    )


def step_passed(session: Session, state: DeploymentState) -> bool:
    """Whether the latest interval of every check in the current step passed (a step of a
    rollout without an analysis always may advance)."""
    analysis = analysis_of(state)
    if analysis is None or state.rollout_id is None:
        return True
    runs = session.exec(
        select(AnalysisRun).where(
            AnalysisRun.rollout_id == state.rollout_id, AnalysisRun.step == state.rollout_index
        )
    ).all()
    latest: dict[int, AnalysisRun] = {}
    for run in runs:
        if run.check_index not in latest or run.interval_index > latest[run.check_index].interval_index:
            latest[run.check_index] = run
    return all(index in latest and latest[index].verdict == "pass" for index in range(len(analysis.checks)))


def run_view(run: AnalysisRun) -> dict[str, Any]:
    return {
        "step": run.step,
        "check": run.check_index,
        "kind": run.kind,
        "interval": run.interval_index,
        "startedAt": run.started_at,
        "endedAt": run.ended_at,
        "verdict": run.verdict,
        "numbers": orjson.loads(run.numbers),
        "decidedAt": run.decided_at,
    }
