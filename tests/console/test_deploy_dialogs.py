"""The deploy and promote dialogs, in process on both backends: a form becomes the API's body,
read by the API's parser and done by the API's service; refusals come back in words."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from mcpreg.db.deploy_tables import Deployment
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import environments
from tests.console.conftest import ORIGIN, csrf_of
from tests.console.operations import PANEL, deployed, published
from tests.support.deploys import NAME

FORM = f"/console/environments/production/deploy?server={NAME}"
ACTION = "/console/environments/production/deploy"


def send(client: TestClient, action: str, data: dict[str, str], page: str = FORM) -> tuple[int, str, str]:
    token = csrf_of(client.get(page).text)
    response = client.post(action, data={"csrf": token, **data}, headers={"Origin": ORIGIN})
    return response.status_code, response.headers.get("location", ""), response.text


def requests(engine: sa.Engine) -> list[tuple[str, str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Deployment).order_by(col(Deployment.id)))
        return [(d.version, d.strategy, d.state) for d in rows]


def test_the_form_offers_active_versions_strategies_notes_and_a_utc_schedule(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    html = admin_client.get(FORM).text
    assert '<option value="2.0.0-rc.1">2.0.0-rc.1 (pre-release)</option>' in html
    assert html.index('value="2.0.0-rc.1"') < html.index('value="1.2.0"') < html.index('value="1.0.0"')
    for strategy in ("immediate", "canary", "staged"):
        assert f'id="strategy-{strategy}"' in html
    assert "Schedule at, in UTC" in html and 'type="datetime-local"' in html and "data-local-preview" in html
    assert 'name="acknowledge" value="yes" required' in html  # production is protected
    assert "<html" not in admin_client.get(FORM + "&fragment=1").text  # what the dialog shows


def test_deploying_a_canary_lands_on_its_rollout_panel_with_what_happened(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "production", "1.0.0")
    form = {"server": NAME, "version": "1.1.0", "strategy": "canary", "weight": "10", "acknowledge": "yes"}
    status, location, _ = send(admin_client, ACTION, form)
    assert status == 303 and location.startswith(PANEL)
    assert "1.1.0 gets 10% of clients (canary), 1.0.0 the rest" in admin_client.get(location).text
    assert requests(engine)[-1] == ("1.1.0", "canary", "applied")


def test_refusals_come_back_in_the_apis_words_with_the_field_marked(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    base = {"server": NAME, "acknowledge": "yes"}
    cases = [
        (
            {"version": "1.0.0", "strategy": "canary", "weight": "lots"},
            422,
            "weight must be a number",
            "weight",
        ),
        (
            {"version": "1.0.0", "strategy": "staged", "steps": "5:10m,3:manual"},
            422,
            "strictly increase",
            "steps",
        ),
        ({"version": "2.0.0-rc.1"}, 409, "does not accept pre-releases", "version"),
        ({"version": "1.0.0", "scheduled_at": "2001-01-01T00:00"}, 422, "scheduled_in_past", "scheduled_at"),
    ]
    for extra, status, words, field in cases:
        code, _, html = send(admin_client, ACTION, {**base, **extra})
        assert code == status and words in html, (extra, html)
        assert re.search(f'name="{field}"[^>]*aria-invalid="true"', html), field  # the field is marked
    unticked = send(admin_client, ACTION, {"server": NAME, "version": "1.0.0"})
    assert unticked[0] == 422 and "production is protected: tick the box to confirm the deploy" in unticked[2]
    assert requests(engine) == []


def test_a_scheduled_deploy_waits_and_says_when_in_utc(admin_client: TestClient, engine: sa.Engine) -> None:
    published(engine)
    deployed(engine, "production", "1.0.0")
    form = {"server": NAME, "version": "1.1.0", "scheduled_at": "2030-01-31T18:00", "acknowledge": "yes"}
    status, location, _ = send(admin_client, ACTION, form)
    assert status == 303
    panel = admin_client.get(location).text
    assert "is scheduled for 2030-01-31 18:00:00 UTC" in panel  # the notice
    assert "scheduled for 2030-01-31 18:00:00 UTC (<time datetime=" in panel  # the waiting list
    assert requests(engine)[-1] == ("1.1.0", "immediate", "scheduled")


def test_where_approval_is_required_the_deploy_waits_for_another_principal(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    with unit_of_work(engine, write=True) as session:
        environments.update_environment(session, SYSTEM, "staging", {"requiresApproval": True})
    staging = f"/console/environments/staging/deploy?server={NAME}"
    status, location, _ = send(
        admin_client, "/console/environments/staging/deploy", {"server": NAME, "version": "1.0.0"}, staging
    )
    assert status == 303
    assert "waits for approval by another principal" in admin_client.get(location).text
    assert requests(engine) == [("1.0.0", "immediate", "pending_approval")]


def test_promoting_moves_what_runs_to_the_next_environment_and_skipping_needs_force(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "dev", "1.1.0")
    page = f"/console/environments/dev/servers/{NAME}/promote"
    html = admin_client.get(page).text
    assert "What runs in dev: <strong>1.1.0</strong>" in html
    assert '<option value="staging">' in html and '<option value="production">production (protected)' in html
    skip = send(admin_client, page, {"version": "1.1.0", "to": "production", "acknowledge": "yes"}, page)
    assert skip[0] == 409 and "skips staging; send force: true" in skip[2]
    status, location, _ = send(admin_client, page, {"version": "1.1.0", "to": "staging"}, page)
    assert status == 303 and location.startswith(f"/console/environments/staging/servers/{NAME}/rollout")
    assert requests(engine)[-1] == ("1.1.0", "immediate", "applied")
