"""The rollout panel's new parts in chromium, on a real server, on SQLite and PostgreSQL: an
analysed rollout with traffic shows its two charts, the interval table and the decision,
and the prober's health; a verdict that lands, and a health change, while the panel is open
appear within two seconds without a reload; in another environment a waiting request is approved and another
cancelled through their confirmation dialogs, and your own request's Approve is off with
the reason. axe-core checks the panel and the dialog; screenshots are saved (artefacts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from mcpreg.db.analysis_tables import AnalysisRun
from mcpreg.db.deploy_tables import Deployment
from mcpreg.db.engine import unit_of_work
from mcpreg.db.types import utcnow
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.services import environments, health
from mcpreg.services.deploy import deployments
from tests.conftest import make_token
from tests.console.analysed import SETTLE, judged, rolling, served, three_intervals
from tests.console.conftest import browser_sign_in
from tests.console.operations import PANEL, deployed
from tests.support.deploys import NAME
from tests.support.live import LiveServer
from tests.support.waiting import wait_until

Shoot = Callable[[Any, str], None]
LIVE_WITHIN = 2.0  # seconds: the bound for the panel to follow a change
INTERVAL = 60  # long enough that the server's own analysis loop never judges the fourth
STAGING = f"/console/environments/staging/servers/{NAME}/rollout"
OPS = Principal(name="ops", scopes=frozenset({"deploy"}), token_id=0)


def verdicts(engine: sa.Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count(col(AnalysisRun.id)))).one())


def judged_until(engine: sa.Engine, start: Any, intervals: int) -> None:
    """Judge ``intervals`` intervals (both checks), again if the server's own loop held the row."""

    def done() -> bool:
        judged(engine, start, intervals, INTERVAL)
        return verdicts(engine) == 2 * intervals

    wait_until(done, what=f"{intervals} intervals judged")


def waiting_in_staging(engine: sa.Engine) -> tuple[int, int]:
    """staging runs 1.0.0 and requires approval; alice asks for 1.1.0 (canary 20%), ops for
    1.2.0 at a later time. Returns both requests' ids."""
    deployed(engine, "staging", "1.0.0")
    with unit_of_work(engine, write=True) as session:
        environments.update_environment(session, SYSTEM, "staging", {"requiresApproval": True})
    deployed(engine, "staging", "1.1.0", strategy="canary", weight=20)
    with unit_of_work(engine, write=True) as session:
        later = {"server": NAME, "version": "1.2.0", "scheduled_at": "2030-01-31T18:00:00Z"}
        deployments.deploy(session, OPS, "staging", parse_deploy(later))
    with Session(engine) as session:
        ids = session.exec(select(Deployment.id).where(Deployment.state == "pending_approval")).all()
    first, second = sorted(i or 0 for i in ids)
    return first, second


def test_the_panel_charts_the_analysis_follows_a_verdict_and_approves_and_cancels_requests(
    page: Any, engine: sa.Engine, live_console: LiveServer, look: Shoot
) -> None:
    # The traffic first: the server's own analysis loop judges whatever has ended once the
    # rollout exists (the first three intervals; the fourth only a minute after this test).
    start = utcnow() - timedelta(seconds=3 * INTERVAL + SETTLE + 1)
    three_intervals(engine, start, INTERVAL)
    fourth = start + timedelta(seconds=3 * INTERVAL)
    served(engine, "1.1.0", fourth, INTERVAL, ok=3, errors=0)
    served(engine, "1.0.0", fourth, INTERVAL, ok=20, errors=0)
    rolling(engine, start=start, interval=INTERVAL, inconclusiveLimit=100)
    judged_until(engine, start, 3)
    with unit_of_work(engine, write=True) as session:
        health.record(session, "production", NAME, "1.0.0", True)
        health.record(session, "production", NAME, "1.1.0", True)
    asked, mine = waiting_in_staging(engine)
    browser_sign_in(page, make_token(engine, "ops", ["deploy"]))

    # The analysis: the decision, two charts (images with their names) and the interval table.
    page.goto(PANEL)
    assert page.locator("svg.chart").count() == 2
    assert page.get_by_role("img", name="Error rate per interval (%)").is_visible()
    assert page.get_by_role("img", name="p95 latency per interval (ms)").is_visible()
    rows = page.locator("table.intervals tbody tr")
    assert rows.count() == 3
    assert "✗ fail" in rows.nth(1).inner_text() and "33.33% (60)" in rows.nth(1).inner_text()
    assert page.get_by_text("Decision: advance").is_visible()
    assert page.locator(".chip.health-healthy").count() == 2  # stable and canary
    look(page, "rollout-analysis")

    # A verdict lands (verdicts are not in the change feed): the open panel shows it within 2 s.
    page.evaluate("window.notReloaded = true")
    judged_until(engine, start, 4)
    landed = time.monotonic()
    page.locator('table.intervals tr[data-interval="4"]').wait_for(timeout=LIVE_WITHIN * 1000)
    took = time.monotonic() - landed
    assert page.evaluate("window.notReloaded") is True, "the panel reloaded the page"
    assert rows.count() == 4
    print(f"panel showed the new verdict in {took:.2f} s")

    # The prober finds the canary unhealthy (a change, through the feed): the chip follows.
    with unit_of_work(engine, write=True) as session:
        for _ in range(3):
            health.record(session, "production", NAME, "1.1.0", False, "ConnectError")
    page.locator(".chip.health-unhealthy").wait_for(timeout=LIVE_WITHIN * 1000)
    assert page.get_by_text("the gateway sends its clients to stable until it recovers").is_visible()
    assert page.evaluate("window.notReloaded") is True, "the panel reloaded the page"

    # Waiting requests in staging: your own one's Approve is off with the reason.
    page.goto(STAGING)
    assert page.get_by_text("Not now: you requested it").is_visible()
    assert page.get_by_role("button", name=f"Approve deployment #{mine} (1.2.0)").is_disabled()
    page.get_by_role("link", name=f"Approve deployment #{asked} (1.1.0)").click()
    dialog = page.locator(f"dialog#confirm-approve-{asked}")
    assert f"1.1.0 (canary at 20%) of {NAME} to staging, requested by alice" in dialog.inner_text()
    look(page, "rollout-approve-dialog")
    dialog.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"**{STAGING}?notice=*")
    assert page.get_by_text(f"approved deployment #{asked}").first.is_visible()
    facts = page.locator("dl.facts").inner_text()
    assert "1.1.0" in facts and "20% of clients" in facts  # the canary runs

    page.get_by_role("link", name=f"Cancel request deployment #{mine} (1.2.0)").click()
    cancel = page.locator(f"dialog#confirm-cancel-{mine}")
    assert "it is withdrawn and never applied" in cancel.inner_text()
    cancel.get_by_role("button", name="Cancel request").click()
    page.wait_for_url(f"**{STAGING}?notice=*")
    assert page.get_by_text(f"cancelled deployment #{mine} of 1.2.0").first.is_visible()
    assert page.get_by_role("heading", name="Waiting").count() == 0
