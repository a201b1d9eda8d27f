"""Walkthroughs of the console in chromium, on a real server, on SQLite and PostgreSQL.

Each screen visited is checked with axe-core (labels, contrast, headings: WCAG 2 A/AA) and
saved as screenshots at 1280x800 and 390x844 (run artefacts, not committed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.api.runtime import runtime
from mcpreg.db.tables import Release
from tests.conftest import make_token
from tests.console.scenario import OTHER, WEATHER, build
from tests.support.live import LiveServer

Check = Callable[[Any], None]
Shoot = Callable[[Any, str], None]


@pytest.fixture
def catalogue(live_console: LiveServer, engine: sa.Engine) -> None:
    build(engine, runtime(live_console.app).keyring)


def _sign_in(page: Any, token: str) -> None:
    page.goto("/console/signin")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")


@pytest.mark.usefixtures("catalogue")
def test_sign_in_find_a_server_read_its_history_with_hover_times_and_compare_two_versions(
    page: Any, engine: sa.Engine, accessible: Check, shoot: Shoot
) -> None:
    page.goto("/console/")
    accessible(page)
    shoot(page, "catalogue-anonymous")
    # By keyboard: the first Tab reaches the skip link, drawn with a visible focus ring.
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.textContent, getComputedStyle(document.activeElement).outlineWidth]"
    )
    assert focused == ["Skip to content", "3px"]
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.get_by_role("link", name="Sign in").click()
    accessible(page)
    shoot(page, "signin")
    _sign_in(page, make_token(engine, "pat", ["publish"], namespaces=["io.github.acme/*"]))
    assert page.get_by_text("Signed in as").is_visible()
    assert "pat" not in page.context.cookies()[0]["value"]  # the cookie is a session id, not the token
    page.get_by_label("Search names and descriptions").fill("weather")
    page.get_by_role("button", name="Search").click()
    accessible(page)
    shoot(page, "catalogue")
    page.get_by_role("link", name=WEATHER).click()
    page.wait_for_url(f"**/console/servers/{WEATHER}")
    rows = page.locator("tbody tr th[scope=row]").all_inner_texts()
    assert [r.split()[0] for r in rows] == ["2.0.0", "2.0.0-rc.1", "1.1.0", "1.0.0"]
    stamp = page.locator("tr#v-1\\.1\\.0 time").first
    stamp.hover()
    title = stamp.get_attribute("title") or ""
    assert "UTC" in title and "local:" in title, title
    assert stamp.inner_text() == "just now"
    stamp.focus()
    accessible(page)
    shoot(page, "server")
    page.goto(f"/console/servers/{WEATHER}/versions/1.1.0/edit")
    assert page.get_by_text("a published release is never edited").is_visible()
    accessible(page)
    shoot(page, "edit-published")
    page.goto(f"/console/servers/{WEATHER}/config")
    accessible(page)
    shoot(page, "config")
    page.goto("/console/history")
    accessible(page)
    shoot(page, "history")

    # Compare two versions and see the three colours.
    page.goto(f"/console/servers/{WEATHER}")
    page.get_by_role("link", name="Compare two versions").click()
    page.get_by_label("From (older)").select_option("1.1.0")
    page.get_by_label("To (newer)").select_option("2.0.0-rc.1")
    page.get_by_role("button", name="Compare").click()
    colours = {}
    for op in ("added", "removed", "changed"):
        item = page.locator(f"li.{op}").first
        assert item.locator("strong").inner_text() == op  # the word and the sign, not only the colour
        assert item.locator(".sign").inner_text() == {"added": "+", "removed": "-", "changed": "~"}[op]
        red, green, blue = (
            int(part) for part in item.evaluate("e => getComputedStyle(e).backgroundColor")[4:-1].split(",")
        )
        colours[op] = (red, green, blue)
    assert colours["added"][1] > max(colours["added"][0], colours["added"][2])  # green
    assert colours["removed"][0] > max(colours["removed"][1], colours["removed"][2])  # red
    assert colours["changed"][2] > max(colours["changed"][0], colours["changed"][1])  # blue
    accessible(page)
    shoot(page, "compare")


@pytest.mark.usefixtures("catalogue")
def test_a_namespace_limited_token_cannot_see_or_press_what_it_may_not_nor_can_another_site(
    page: Any, engine: sa.Engine, live_console: LiveServer, accessible: Check, shoot: Shoot
) -> None:
    _sign_in(page, make_token(engine, "otter", ["publish"], namespaces=["io.github.other/*"]))
    page.goto(f"/console/servers/{OTHER}")
    assert page.locator('form[action$="/duplicate"]').count() == 1  # its own server: actions
    page.goto(f"/console/servers/{WEATHER}")
    assert page.locator('form[action$="/duplicate"], form[action$="/status"]').count() == 0
    assert page.locator("tr#v-2\\.0\\.0").count() == 0  # acme's draft stays hidden
    page.goto("/console/history?environment=production")
    assert page.get_by_role("link", name=WEATHER).count() == 0
    accessible(page)
    shoot(page, "history-limited")
    answer = page.goto(f"/console/servers/{WEATHER}/config")
    assert answer is not None and answer.status == 403
    assert page.get_by_text("namespace_denied").is_visible()
    accessible(page)
    shoot(page, "refused")

    # A cross-origin post is refused, even one that carries a leaked CSRF token.
    page.goto(f"/console/servers/{OTHER}")
    stolen = page.locator('input[name="csrf"]').first.get_attribute("value")  # even a leaked CSRF token
    evil = "http://evil.test/"
    form = (
        f'<html lang="en"><body><form method="post" action="{live_console.url}/console/servers/{OTHER}'
        f'/versions/0.1.0/status"><input name="csrf" value="{stolen}"><input name="status" value="deleted">'
        '<input name="force" value="true"><button>Win a prize</button></form></body></html>'
    )
    page.route(evil, lambda route: route.fulfill(status=200, content_type="text/html", body=form))
    page.goto(evil)
    with page.expect_navigation():
        page.get_by_role("button", name="Win a prize").click()
    assert page.get_by_text("cross_origin").is_visible()
    with Session(engine) as s:
        release = s.exec(
            select(Release).where(Release.server_name == OTHER, Release.version == "0.1.0")
        ).one()
    assert release.status == "active"
