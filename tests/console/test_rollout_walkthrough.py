"""The operations screens in chromium, on a real server, on SQLite and PostgreSQL: deploy a
canary through the dialog, watch the board follow another session's change without a
reload, promote with the protected box, roll back, and read point in time before and after;
a token of another namespace sees and presses nothing of it. Every screen visited is checked
with axe-core and saved as screenshots (artefacts, not committed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.deploy_tables import DeploymentEvent
from mcpreg.domain.timestamps import rfc3339
from tests.conftest import make_token
from tests.console.conftest import browser_sign_in as sign_in
from tests.console.operations import PANEL, deployed, published
from tests.support.deploys import NAME
from tests.support.live import LiveServer

Shoot = Callable[[Any, str], None]
LIVE_WITHIN = 2.0  # seconds: the bound for the board and the panel to follow a change


def moments(engine: sa.Engine, *actions: str) -> list[str]:
    """The instants of the production events with these actions, oldest first."""
    with Session(engine) as session:
        query = select(DeploymentEvent).where(DeploymentEvent.environment == "production")
        events = session.exec(query.order_by(col(DeploymentEvent.id)))
        return [rfc3339(e.at) for e in events if e.action in actions]


def cell(page: Any, env: str) -> Any:
    return page.locator(f'td[data-environment="{env}"]').first


def test_deploy_a_canary_watch_the_board_promote_with_the_box_roll_back_and_look_back(
    page: Any, engine: sa.Engine, live_console: LiveServer, look: Shoot
) -> None:
    published(engine)
    deployed(engine, "production", "1.0.0")
    sign_in(page, make_token(engine, "ops", ["deploy"]))

    # The board; deploy a canary to production through its dialog.
    page.goto("/console/board")
    assert "1.0.0" in cell(page, "production").inner_text()
    look(page, "board")
    page.get_by_role("link", name=f"Deploy {NAME} to production").click()
    dialog = page.locator("dialog#ops-dialog")
    dialog.get_by_label("Version").select_option("1.1.0")
    dialog.get_by_label("Canary: a fixed weight until promoted").check()
    dialog.get_by_label("Canary weight, percent of clients (canary only)").fill("10")
    dialog.get_by_label("Schedule at, in UTC (leave empty to deploy now)").fill("2030-01-31T18:00:00")
    assert "in your time (Europe/Paris)" in dialog.locator("output").inner_text()  # 19:00 there
    dialog.get_by_label("Schedule at, in UTC (leave empty to deploy now)").fill("")
    dialog.get_by_label("I confirm: production is protected").check()
    look(page, "deploy-dialog")
    dialog.get_by_role("button", name="Deploy to production").click()
    page.wait_for_url(f"**{PANEL}?notice=*")
    assert page.get_by_text("1.1.0 gets 10% of clients (canary), 1.0.0 the rest").first.is_visible()
    look(page, "rollout")
    page.goto(f"{PANEL}/abort")  # the confirmation page, as a browser without JavaScript gets it
    assert page.get_by_text(
        "Abort the rollout of 1.1.0 in production: every client goes to 1.0.0."
    ).is_visible()
    look(page, "rollout-confirm-page")

    # Another session (the API, with its own token) deploys to staging: the open board follows.
    page.goto("/console/board")
    page.evaluate("window.notReloaded = true")
    assert "not deployed" in cell(page, "staging").inner_text()
    admin = make_token(engine, "other-session", ["admin"])
    with httpx.Client(base_url=live_console.url, headers={"Authorization": f"Bearer {admin}"}) as api:
        answer = api.post("/api/environments/staging/deployments", json={"server": NAME, "version": "1.1.0"})
        assert answer.status_code == 201, answer.text
    changed = time.monotonic()
    cell(page, "staging").get_by_text("1.1.0").wait_for(timeout=LIVE_WITHIN * 1000)
    took = time.monotonic() - changed
    assert page.evaluate("window.notReloaded") is True, "the board reloaded the page"
    print(f"board followed the change in {took:.2f} s")

    # The rollout panel follows another session's change too: a deploy scheduled through the API.
    page.goto(PANEL)
    page.evaluate("window.notReloaded = true")
    with httpx.Client(base_url=live_console.url, headers={"Authorization": f"Bearer {admin}"}) as api:
        later = {"server": NAME, "version": "1.2.0", "scheduled_at": "2030-01-31T18:00:00Z"}
        answer = api.post("/api/environments/production/deployments", json=later)
        assert answer.status_code == 201, answer.text
    page.get_by_text("scheduled for 2030-01-31 18:00:00 UTC").wait_for(timeout=LIVE_WITHIN * 1000)
    assert page.evaluate("window.notReloaded") is True, "the panel reloaded the page"

    # Promote with the box (the dialog will not submit without it), then roll back.
    page.get_by_role("link", name="Promote one step").click()
    confirm = page.locator("dialog#confirm-promote")
    assert "Promote 1.1.0 to 100% in production" in confirm.inner_text()
    confirm.get_by_role("button", name="Promote one step").click()
    assert confirm.is_visible()  # the unticked box holds the form back
    confirm.get_by_label("I confirm: production is protected").check()
    look(page, "rollout-promote-dialog")
    confirm.get_by_role("button", name="Promote one step").click()
    page.wait_for_url(f"**{PANEL}?notice=*")
    assert page.get_by_text("the rollout completed: 1.1.0 is stable").first.is_visible()
    page.get_by_role("link", name="Roll back").click()
    back = page.locator("dialog#confirm-rollback")
    assert "from 1.1.0 to 1.0.0" in back.inner_text()
    back.get_by_label("Notes (optional, kept in the history)").fill("5xx on /forecast")
    back.get_by_role("button", name="Roll back").click()
    page.wait_for_url(f"**{PANEL}?notice=*")
    assert page.get_by_text("rolled back to 1.0.0, replacing 1.1.0").first.is_visible()

    # Without JavaScript's dialog, the same button is a confirmation page.
    page.goto(f"{PANEL}/promote")
    assert page.get_by_text("This does not apply now").is_visible()
    page.goto(f"/console/environments/staging/servers/{NAME}/promote")
    assert page.get_by_text("What runs in staging: 1.1.0").is_visible()
    look(page, "promote-page")

    # Point in time: during the canary, after the promotion, and now.
    canary, completed, rolled_back = moments(engine, "deploy", "complete", "rollback")[1:]
    page.goto(f"/console/point-in-time?at={canary}")
    production = page.locator('section[data-environment="production"] tr[data-server]')
    assert production.locator("td.stable").inner_text() == "1.0.0"
    assert "1.1.0" in production.locator("td.canary").inner_text()
    look(page, "point-in-time")
    page.goto(f"/console/point-in-time?at={completed}")
    assert production.locator("td.stable").inner_text() == "1.1.0"
    page.goto(f"/console/point-in-time?at={rolled_back}")
    assert production.locator("td.stable").inner_text() == "1.0.0"
    assert "rollback by ops" in production.inner_text()


def test_a_token_of_another_namespace_sees_and_presses_nothing_of_it(
    page: Any, engine: sa.Engine, live_console: LiveServer, look: Shoot
) -> None:
    published(engine)
    deployed(engine, "production", "1.0.0")
    deployed(engine, "production", "1.1.0", strategy="canary", weight=10)
    sign_in(page, make_token(engine, "otter", ["deploy"], namespaces=["io.github.other/*"]))
    page.goto("/console/board")
    assert page.get_by_text(NAME).count() == 0
    assert page.get_by_text("Nothing you may see is deployed").is_visible()
    look(page, "board-limited")
    answer = page.goto(PANEL)
    assert answer is not None and answer.status == 403
    assert page.get_by_text("namespace_denied").is_visible()
    form = page.goto(f"/console/environments/production/deploy?server={NAME}")
    assert form is not None and form.status == 200  # the form is generic; the deploy is refused
    page.get_by_label("I confirm: production is protected").check()
    page.get_by_role("button", name="Deploy to production").click()
    assert page.get_by_text("namespace_denied").is_visible()
    look(page, "deploy-refused")
    page.goto(f"/console/point-in-time?at={moments(engine, 'deploy')[-1]}")
    assert page.get_by_text(NAME).count() == 0
