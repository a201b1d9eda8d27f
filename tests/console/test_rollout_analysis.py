"""The rollout panel's analysis and health, in process on both backends: each judged
interval with both tracks' numbers and every check's verdict, the two charts, the decision
and its reason (advance, then abort), the prober's health of stable and canary, and the
fragment's signature that tells live.js a verdict landed."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from starlette.testclient import TestClient

from mcpreg.console.analysis import check_words
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.analysis import parse_analysis
from mcpreg.services import health
from tests.console.analysed import INTERVAL, judged, rolling, served, three_intervals
from tests.console.operations import PANEL


def intervals(html: str) -> list[list[str]]:
    """The interval table's rows, each cell's text."""
    table = html.split('<table class="intervals">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-interval="\d+">(.*?)</tr>', table, re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in row] for row in cells]


def decision(html: str) -> str:
    found = re.search(r'data-decision="(\w+)"><strong>Decision: \w+</strong> — ([^<]+)</p>', html)
    assert found, "no decision on the panel"
    return f"{found.group(1)}: {found.group(2)}"


def test_each_judged_interval_shows_both_tracks_numbers_and_every_verdict(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    start = rolling(engine)
    three_intervals(engine, start)
    assert judged(engine, start, 3) == []  # one failed interval: within the failureLimit
    html = admin_client.get(PANEL).text
    rows = intervals(html)
    assert [row[0] for row in rows] == ["#1", "#2", "#3"]
    # interval, step, ended, canary requests/errors/p95, stable requests/errors/p95, check 0, check 1
    assert rows[0][3:5] == ["30", "0% (0)"] and rows[0][6:8] == ["200", "0% (0)"]
    assert rows[1][3:5] == ["30", "33.33% (10)"] and rows[1][9:] == ["✗ fail", "✓ pass"]
    assert rows[0][9:] == rows[2][9:] == ["✓ pass", "✓ pass"]
    assert float(rows[1][5].split()[0]) > float(rows[0][5].split()[0])  # the slow interval's p95
    assert "Check 0: error rate at most 5%, every 10s" in html
    assert "Check 1: p95 latency at most 500 ms" in html
    assert decision(html).startswith("advance: the latest interval of every check passed")
    assert html.count('<svg class="chart"') == 2
    assert '<title id="chart-errors-title">Error rate per interval (%)</title>' in html
    assert "canary 1.1.0: 3 of 3 intervals with traffic, latest 0%, highest 33.33%" in html


def test_past_the_failure_limit_the_decision_is_abort_with_its_reason(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    start = rolling(engine)
    three_intervals(engine, start)
    served(engine, "1.1.0", start + timedelta(seconds=3 * INTERVAL), INTERVAL, ok=1, errors=2)
    acted = judged(engine, start, 4)
    assert [a.action for a in acted] == ["abort"]
    html = admin_client.get(PANEL).text
    assert intervals(html)[3][9] == "✗ fail"
    said = decision(html)
    assert said.startswith("abort: check 0 (errorRate) failed 2 intervals, past its failureLimit 1")
    assert said.endswith("(the analysis aborted the rollout).")
    assert "data-refresh-every" not in html  # nothing more to judge: the panel stops looking


def test_a_rollout_without_verdicts_yet_says_so_and_keeps_looking(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    rolling(engine)
    fragment = admin_client.get(f"{PANEL}?fragment=1").text
    assert "No interval has been judged yet" in fragment and "<svg" not in fragment
    assert 'data-refresh-every="1.0"' in fragment and 'data-signature="0:0"' in fragment
    assert decision(fragment).startswith("wait: the step advances once")


def shown(fragment: str) -> str:
    """What live.js sends back as ``unless``: the fragment's generation and signature."""
    found = re.search(r'data-generation="(\d+)" data-signature="([^"]*)"', fragment)
    assert found, "no generation and signature on the fragment"
    return f"{found.group(1)}:{found.group(2)}"


def test_a_look_again_is_answered_204_until_a_verdict_lands(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    start = rolling(engine)
    three_intervals(engine, start)
    first = admin_client.get(f"{PANEL}?fragment=1").text
    same = admin_client.get(PANEL, params={"fragment": "1", "unless": shown(first)})
    assert same.status_code == 204 and same.content == b""
    judged(engine, start, 1)
    moved = admin_client.get(PANEL, params={"fragment": "1", "unless": shown(first)})
    assert moved.status_code == 200 and shown(moved.text).split(":")[1] == "2"  # two verdicts now
    assert admin_client.get(PANEL, params={"fragment": "1", "unless": shown(moved.text)}).status_code == 204


def test_the_panel_shows_the_probers_health_of_stable_and_canary(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    rolling(engine, analysed=False)
    html = admin_client.get(PANEL).text
    assert html.count("health: not checked yet") == 2  # nothing invented
    with unit_of_work(engine, write=True) as session:
        health.record(session, "production", "io.github.acme/weather", "1.0.0", True)
        for _ in range(3):
            health.record(session, "production", "io.github.acme/weather", "1.1.0", False, "ConnectError")
    html = admin_client.get(PANEL).text
    assert '<span class="chip health-healthy">health: healthy</span>' in html
    assert '<span class="chip health-unhealthy">health: unhealthy</span>' in html
    assert "the gateway sends its clients to stable until it recovers" in html
    history = html.split('id="history-heading"', 1)[1]
    assert "1.0.0 is healthy" in history and re.search(
        r"1\.1\.0 is unhealthy \(was \w+\): ConnectError", history
    )


def test_every_kind_of_check_reads_in_words() -> None:
    body = {
        "interval": "30s",
        "failureLimit": 2,
        "checks": [
            {"kind": "errorRate", "max": 0.05},
            {"kind": "p95", "maxSeconds": 0.25, "minRequests": 10},
            {"kind": "ratioToStable", "factor": 1.5, "plus": 0.005},
            {"kind": "minRequests", "count": 50, "interval": "5m"},
        ],
    }
    said = [check_words(c) for c in parse_analysis(body).checks]
    assert said == [
        "error rate at most 5%, every 30s; under 1 canary request: inconclusive; "
        "aborts past 2 failed, pauses past 3 inconclusive",
        "p95 latency at most 250 ms, every 30s; under 10 canary requests: inconclusive; "
        "aborts past 2 failed, pauses past 3 inconclusive",
        "error rate at most 1.5 times stable's plus 0.5 points, every 30s; under 1 canary request: "
        "inconclusive; aborts past 2 failed, pauses past 3 inconclusive",
        "at least 50 canary requests, every 5m; aborts past 2 failed, pauses past 3 inconclusive",
    ]
