"""What the canary analysis reads: a waiting analysed step is not due (so the scheduler takes
no write lock for it each tick), an analysis pass is due only when an interval ended (so
the analysis loop takes none mid-interval), and a pass decides from verdicts counted in SQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from mcpreg.db.engine import unit_of_work
from mcpreg.services import analysis, analysis_runs
from mcpreg.services.deploy import clock
from tests.services.test_analysis import INTERVAL, SETTLE, analyse, rolling, state_of, traffic

__all__ = ["rolling"]  # the fixture, used by name


def test_an_analysed_step_whose_checks_have_not_passed_is_not_due(
    engine: sa.Engine, rolling: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 40, ok=3, errors=0)  # then nothing: the latest is inconclusive
    step_end = rolling + timedelta(seconds=60 + SETTLE + 1)
    analyse(engine, step_end)
    with unit_of_work(engine) as session:
        assert not analysis_runs.step_passed(session, state_of(session))
        assert not clock.due(session, step_end)
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling + timedelta(seconds=40), 40, ok=3, errors=0)
    later = step_end + timedelta(seconds=20)
    analyse(engine, later)
    with unit_of_work(engine) as session:
        assert analysis_runs.step_passed(session, state_of(session))
        assert clock.due(session, later)
    with unit_of_work(engine, write=True) as session:
        assert clock.tick(session, later).steps == 1


def test_a_pass_is_due_only_when_an_interval_ended_or_a_decision_waits(
    engine: sa.Engine, rolling: datetime
) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 30, ok=3, errors=0)
    with unit_of_work(engine) as session:
        assert not analysis.due(session, rolling + timedelta(seconds=INTERVAL - 1 + SETTLE), settle=SETTLE)
        assert analysis.due(session, rolling + timedelta(seconds=INTERVAL + SETTLE), settle=SETTLE)
    analyse(engine, rolling + timedelta(seconds=INTERVAL + SETTLE))
    with unit_of_work(engine) as session:  # judged: nothing more until the next interval ends
        assert not analysis.due(
            session, rolling + timedelta(seconds=2 * INTERVAL - 1 + SETTLE), settle=SETTLE
        )


def test_verdicts_counted_in_sql_match_the_verdicts_read(engine: sa.Engine, rolling: datetime) -> None:
    with unit_of_work(engine, write=True) as session:
        traffic(session, "1.1.0", rolling, 30, ok=3, errors=0)
    analyse(engine, rolling + timedelta(seconds=60 + SETTLE))
    with unit_of_work(engine) as session:
        rollout_id = state_of(session).rollout_id
        assert rollout_id is not None
        counts = analysis_runs.verdict_counts(session, rollout_id)
        assert counts == analysis_runs.tally(analysis_runs.verdicts(session, rollout_id))
        assert counts == {0: {"pass": 3, "inconclusive": 3}}
