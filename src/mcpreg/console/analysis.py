"""The rollout panel's analysis: each judged interval, its verdicts, the decision, two charts.

Read from the services the analysis API reads (``GET .../analysis``): the analysis in force
(``analysis_runs.analysis_of``), every verdict of the rollout (``analysis_runs.verdicts``),
the decision they add up to (``analysis.decision_of``) and whether the step may advance
(``analysis_runs.step_passed``). The error rate and p95 latency of the canary and of stable
in each interval are the gateway's traffic aggregates, summed over every replica as the
analysis judged them (``traffic.summed_each``: ``traffic.summed`` of every interval, from one
read), with the domain's rules for errors and quantiles (``domain.traffic.VersionTraffic``).

Verdicts are not changes (they move no change generation), so the panel's fragment carries
a ``signature`` of the verdicts (how many, the newest) and, while an analysed rollout runs,
asks ``static/live.js`` to look again every ``REFRESH_SECONDS``. That look sends what it
shows (``?unless=GENERATION:SIGNATURE``) and is answered 204 without building the panel when
nothing moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup
from sqlmodel import Session

from mcpreg.console.charts import Chart, Line, line_chart, number
from mcpreg.db.analysis_tables import AnalysisRun
from mcpreg.db.deploy_tables import DeploymentState
from mcpreg.domain import rollout as machine
from mcpreg.domain.analysis import Analysis, Check
from mcpreg.domain.traffic import VersionTraffic
from mcpreg.services import traffic
from mcpreg.services.analysis import ANALYSED, decision_of
from mcpreg.services.analysis_runs import analysis_of, step_passed, verdicts

SHOWN = 24
"""The most recent intervals shown (chart and table); older ones are counted, not drawn."""
REFRESH_SECONDS = 1.0
"""How often an open panel looks for new verdicts while its analysed rollout runs."""


@dataclass(frozen=True)
class Track:
    """What one track served in one interval (``version`` None: no traffic on it)."""

    version: str | None = None
    requests: int = 0
    errors: int = 0
    p95_seconds: float | None = None

    @property
    def error_percent(self) -> float | None:
        return 100 * self.errors / self.requests if self.requests else None

    @property
    def p95_ms(self) -> float | None:
        return 1000 * self.p95_seconds if self.p95_seconds is not None and self.requests else None


@dataclass(frozen=True)
class Interval:
    """One judged interval: when, in which step, both tracks' numbers and each check's verdict."""

    number: int  # 1 for the rollout's first judged interval
    step: int  # 1-based, as the timeline counts steps
    started_at: datetime
    ended_at: datetime
    canary: Track
    stable: Track
    verdicts: tuple[str | None, ...]  # per check; None: that check did not judge this span


@dataclass(frozen=True)
class Said:
    """The decision in one word (advance, wait, pause, abort) and its reason in words."""

    action: str
    reason: str


@dataclass(frozen=True)
class Report:
    checks: tuple[str, ...]  # each check in words
    intervals: tuple[Interval, ...]  # oldest first, the last SHOWN
    earlier: int  # judged intervals before those
    decision: Said
    charts: tuple[Chart, ...]
    signature: str
    live: bool  # the rollout runs under its analysis: the panel looks again every REFRESH_SECONDS

    def drawn(self) -> list[tuple[Chart, Markup]]:
        """Each chart with its SVG, for the template."""
        return [(chart, line_chart(chart)) for chart in self.charts]


def check_words(check: Check) -> str:
    """``error rate at most 5%, every 10s; aborts past 1 failed, pauses past 2 inconclusive``."""
    if check.kind == "errorRate":
        rule = f"error rate at most {number(check.limit * 100, '%')}"
    elif check.kind == "p95":
        rule = f"p95 latency at most {number(check.limit * 1000, 'ms')}"
    elif check.kind == "ratioToStable":
        rule = f"error rate at most {check.factor:g} times stable's plus {check.plus * 100:g} points"
    else:
        rule = f"at least {int(check.limit)} canary requests"
    requests = "request" if check.min_requests == 1 else "requests"
    least = f"; under {check.min_requests} canary {requests}: inconclusive"
    if check.kind == "minRequests":
        least = ""
    return (
        f"{rule}, every {machine.format_duration(int(check.interval))}{least}; "
        f"aborts past {check.failure_limit} failed, pauses past {check.inconclusive_limit} inconclusive"
    )


def _tracks(totals: dict[str, traffic.Sum], seconds: int) -> tuple[Track, Track]:
    """The canary's and stable's traffic of one interval, by the track it was served on."""
    best: dict[str, Track] = {}
    for version, total in totals.items():
        served = VersionTraffic(
            version, total.track, total.requests, total.outcomes, total.seconds_sum, total.buckets, seconds
        )
        if total.track not in best or served.requests > best[total.track].requests:
            best[total.track] = Track(version, served.requests, served.errors, served.latency(0.95))
    return best.get("canary", Track()), best.get("stable", Track())


def _intervals(
    session: Session, state: DeploymentState, env: str, analysis: Analysis, runs: list[AnalysisRun]
) -> tuple[list[Interval], int]:
    spans: dict[tuple[int, datetime, datetime], dict[int, str]] = {}
    for run in runs:
        spans.setdefault((run.step, run.started_at, run.ended_at), {})[run.check_index] = run.verdict
    ordered = sorted(spans, key=lambda span: (span[1], span[2], span[0]))
    earlier = max(0, len(ordered) - SHOWN)
    kept = ordered[earlier:]
    served = traffic.summed_each(session, env, state.server_name, [(start, end) for _, start, end in kept])
    shown = []
    for position, (span, (totals, _replicas)) in enumerate(zip(kept, served, strict=True), start=earlier + 1):
        step, start, end = span
        canary, stable = _tracks(totals, max(1, int((end - start).total_seconds())))
        judged = spans[span]
        verdict = tuple(judged.get(index) for index in range(len(analysis.checks)))
        shown.append(Interval(position, step + 1, start, end, canary, stable, verdict))
    return shown, earlier


def _name(track: str, versions: set[str | None]) -> str:
    named = sorted(v for v in versions if v)
    return f"{track} {', '.join(named)}" if named else track


def charts(intervals: list[Interval]) -> tuple[Chart, ...]:
    """Error rate (%) and p95 latency (ms) of the canary and stable, one point per interval."""
    labels = tuple(f"#{i.number}" for i in intervals)
    canaries = {i.canary.version for i in intervals}
    stables = {i.stable.version for i in intervals}

    def chart(
        key: str, title: str, unit: str, canary: tuple[float | None, ...], stable: tuple[float | None, ...]
    ) -> Chart:
        lines = (
            Line("canary", _name("canary", canaries), canary),
            Line("stable", _name("stable", stables), stable),
        )
        return Chart(key, title, unit, labels, lines)

    return (
        chart(
            "chart-errors",
            "Error rate per interval",
            "%",
            tuple(i.canary.error_percent for i in intervals),
            tuple(i.stable.error_percent for i in intervals),
        ),
        chart(
            "chart-p95",
            "p95 latency per interval",
            "ms",
            tuple(i.canary.p95_ms for i in intervals),
            tuple(i.stable.p95_ms for i in intervals),
        ),
    )


def _decision(session: Session, state: DeploymentState, analysis: Analysis, runs: list[AnalysisRun]) -> Said:
    decided = decision_of(analysis, runs)
    if decided.action == "abort":
        done = " (the analysis aborted the rollout)" if state.rollout_status == "aborted" else ""
        return Said("abort", decided.reason + done)
    if decided.action == "pause":
        return Said("pause", decided.reason)
    if state.rollout_status not in ANALYSED:
        return Said("advance", f"no check is past its limits; the rollout is {state.rollout_status}")
    if step_passed(session, state):
        then = (
            "promote it when ready" if state.rollout_status == "paused_manual" else "it advances at its time"
        )
        return Said("advance", f"the latest interval of every check passed: {then}")
    return Said("wait", "the step advances once the latest interval of every check has passed")


def signature_of(runs: list[AnalysisRun]) -> str:
    """``COUNT:NEWEST_ID`` of a rollout's verdicts: it moves when a verdict lands."""
    return f"{len(runs)}:{runs[-1].id if runs else 0}"


def signature(session: Session, state: DeploymentState | None) -> str:
    """The fragment's signature without building the report ('' without an analysis)."""
    if state is None or state.rollout_id is None or analysis_of(state) is None:
        return ""
    return signature_of(verdicts(session, state.rollout_id))


def report(session: Session, state: DeploymentState | None, env: str) -> Report | None:
    """The analysis of the target's rollout, for the panel; None when it follows none."""
    analysis = analysis_of(state) if state is not None and state.rollout_id else None
    if state is None or state.rollout_id is None or analysis is None:
        return None
    runs = verdicts(session, state.rollout_id)
    intervals, earlier = _intervals(session, state, env, analysis, runs)
    return Report(
        checks=tuple(check_words(c) for c in analysis.checks),
        intervals=tuple(intervals),
        earlier=earlier,
        decision=_decision(session, state, analysis, runs),
        charts=charts(intervals) if intervals else (),
        signature=signature_of(runs),
        live=state.rollout_status in ANALYSED,
    )
