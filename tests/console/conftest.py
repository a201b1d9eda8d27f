"""Fixtures of the console tests: an in-process client per backend, a signed-in session,
and for the browser walkthroughs a real server per backend driven by Debian's chromium.

Browser fixtures: ``browser`` (one chromium per test module and worker,
``executable_path=/usr/bin/chromium``; the tests skip without it unless
MCPREG_REQUIRE_BROWSER=1, as CI sets), ``page`` (a fresh context at 1280x800 on the live
server), ``shoot`` (a screenshot of the current page at 1280x800 and 390x844 into
``$MCPREG_ARTEFACTS/screenshots`` or ``.artefacts/screenshots``; never committed) and
``accessible`` (axe-core, from the axe-playwright-python package, over the current page:
WCAG 2 A and AA rules, labels, contrast and headings included; any violation fails). Those
two act in the SQLite half of a walkthrough only (the same pages; each costs a second).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mcpreg.api.app import create_app
from mcpreg.api.runtime import runtime
from mcpreg.settings import Settings
from tests.conftest import ROOT, make_token
from tests.support.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
ORIGIN = "http://testserver"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a console page's forms carry."""
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def console_app(settings: Settings, engine: sa.Engine) -> Starlette:
    return create_app(settings, engine, prepare=False, background=False)


@pytest.fixture
def app(settings: Settings, engine: sa.Engine) -> Starlette:
    return console_app(settings, engine)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """The console in process (``http://testserver``), anonymous until ``sign_in``."""
    with TestClient(app, base_url=ORIGIN, follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient | httpx.Client, token: str, origin: str = ORIGIN) -> httpx.Response:
    """Sign in through the form, as a browser does: the session cookie lands in the client."""
    form = client.get("/console/signin")
    assert form.status_code == 200, form.text
    response = client.post(
        "/console/signin",
        data={"token": token, "csrf": csrf_of(form.text), "next": "/console/"},
        headers={"Origin": origin},
    )
    assert response.status_code == 303, response.text
    return response


def post(client: TestClient, path: str, data: dict[str, str], page: str) -> httpx.Response:
    """A console form post from ``page`` (its CSRF token), same origin."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf": token, **data}, headers={"Origin": ORIGIN})


@pytest.fixture
def admin_client(client: TestClient, engine: sa.Engine) -> TestClient:
    sign_in(client, make_token(engine, "console-admin", ["admin"]))
    return client


# ----------------------------------------------------------------------------------------
# The browser
# ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module, not per session: Playwright's sync API keeps an asyncio loop running in the
    # main thread while it is started, and every later test in that process that calls
    # asyncio.run (or anyio.run) would find it and fail.
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("MCPREG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is required here (MCPREG_REQUIRE_BROWSER=1) but is not installed")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def live_console(settings: Settings, engine: sa.Engine) -> Iterator[LiveServer]:
    """The real app (no background loops but the ones it always runs) on a real uvicorn server.

    Drained before it stops, as SIGTERM does: live.js's long poll answers at once (uvicorn
    would otherwise wait out its 25 seconds)."""
    with LiveServer(create_app(settings, engine)) as server:
        yield server
        runtime(server.app).drain.start()


def browser_sign_in(page: Any, token: str) -> None:
    """Sign in through the form in the browser; lands on the catalogue."""
    page.goto("/console/signin")
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console/")


@pytest.fixture
def page(browser: Any, live_console: LiveServer) -> Iterator[Any]:
    context = browser.new_context(
        viewport=DESKTOP, base_url=live_console.url, locale="en-GB", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _artefacts() -> Path:
    base = os.environ.get("MCPREG_ARTEFACTS")
    return (Path(base) if base else ROOT / ".artefacts") / "screenshots"


def _checked_here(database_url: str) -> bool:
    """Screenshots and the accessibility check run in the SQLite half of each walkthrough only:
    the pages are the same HTML on both backends, and each check costs about a second."""
    return database_url.startswith("sqlite")


@pytest.fixture
def shoot(database_url: str) -> Callable[[Any, str], None]:
    """Save the current page at 1280x800 and 390x844 as ``<name>-<size>.png``."""
    folder = _artefacts()
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        if not _checked_here(database_url):
            return
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            page.screenshot(path=str(folder / f"{name}-{size['width']}x{size['height']}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    return take


@pytest.fixture(scope="session")
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


@pytest.fixture
def accessible(axe: Any, database_url: str) -> Callable[[Any], None]:
    """Fail on any axe-core violation of WCAG 2 A/AA (and best-practice heading rules) on the page."""

    def check(page: Any) -> None:
        if not _checked_here(database_url):
            return
        options = {
            "runOnly": {
                "type": "tag",
                "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
            }
        }
        results = axe.run(page, options=options)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"

    return check


@pytest.fixture
def look(accessible: Callable[[Any], None], shoot: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    """The accessibility check and the screenshots of the screen now shown (SQLite half only)."""

    def check(page: Any, name: str) -> None:
        accessible(page)
        shoot(page, name)

    return check
