"""The rollout panel, in process on both backends: the step timeline, the six buttons (on
when they apply, off with the rule's words when not), the confirmations, the protected
environment's box, and who may press what."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa
from sqlmodel import Session
from starlette.testclient import TestClient

from mcpreg.services import releases
from mcpreg.services.deploy.states import find_state
from mcpreg.services.environments import get_environment
from tests.conftest import make_token
from tests.console.conftest import ORIGIN, csrf_of, post, sign_in
from tests.console.operations import PANEL, canary_in_production, deployed, moved, published
from tests.support.deploys import NAME

STAGED = [{"weight": 5, "pause": "10m"}, {"weight": 25, "pause": "manual"}]


def running(engine: sa.Engine, env: str = "production") -> tuple[str | None, str | None, float, str | None]:
    with Session(engine) as session:
        state = find_state(session, releases.get_server(session, NAME), get_environment(session, env))
        assert state is not None
        return state.stable_version, state.canary_version, state.canary_weight, state.rollout_status


def buttons(html: str) -> dict[str, str]:
    """Each button's label and either ``on`` or the reason it is off."""
    found = {label: "on" for label in re.findall(r'data-dialog="confirm-[\w-]+">([^<]+)</a>', html)}
    off = r'disabled aria-describedby="why-[\w-]+">([^<]+)</button>\s*<span class="muted" id="why-[\w-]+">'
    for label, reason in re.findall(off + r"Not now: ([^<]+)</span>", html):
        found[label] = unescape(reason)
    return found


def test_the_timeline_shows_each_step_reached_current_and_to_come(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "production", "1.0.0")
    deployed(engine, "production", "1.1.0", strategy="staged", steps=STAGED)
    moved(engine, "production", "promote")
    html = admin_client.get(PANEL).text
    steps = re.findall(r'<li class="step (\w+)"', html)
    assert steps == ["done", "current", "waiting"]
    assert "Step 2: 25%" in html and "waits for a promote" in html
    assert html.count("by alice") >= 2  # who reached step 1 and step 2
    assert "This rollout follows no analysis" in html  # nothing invented: no chart, no verdicts
    assert "<svg" not in html


def test_buttons_that_do_not_apply_are_off_with_the_reason(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    canary_in_production(engine)
    offered = buttons(admin_client.get(PANEL).text)
    assert offered["Promote one step"] == offered["Promote fully"] == offered["Abort"] == "on"
    assert offered["Roll back"] == "on"
    assert "paused_manual" in offered["Pause"] and "promote it to continue" in offered["Resume"]
    moved(engine, "production", "promote")  # 1.1.0 is stable now; no rollout moves
    offered = buttons(admin_client.get(PANEL).text)
    assert "completed" in offered["Promote one step"] and "completed" in offered["Abort"]
    assert offered["Roll back"] == "on"  # back to 1.0.0, the last known good


def test_a_confirmation_names_the_version_and_the_environment(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    canary_in_production(engine)
    page = admin_client.get(f"{PANEL}/abort")
    assert page.status_code == 200
    assert "Abort the rollout of 1.1.0 in production: every client goes to 1.0.0." in page.text
    assert "acknowledge" not in page.text  # only promotions need the box
    promote = admin_client.get(f"{PANEL}/promote").text
    assert "Promote 1.1.0 to 100% in production" in promote and 'name="acknowledge"' in promote
    unknown = admin_client.get(f"{PANEL}/explode")
    assert unknown.status_code == 404 and "not_found" in unknown.text


def test_promoting_in_a_protected_environment_needs_the_box_ticked(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    canary_in_production(engine)
    refused = post(admin_client, f"{PANEL}/promote", {}, PANEL)
    assert refused.status_code == 422
    assert "production is protected: tick the box to confirm the promotion" in refused.text
    assert running(engine) == ("1.0.0", "1.1.0", 10.0, "paused_manual")
    done = post(admin_client, f"{PANEL}/promote", {"acknowledge": "yes", "notes": "looks good"}, PANEL)
    assert done.status_code == 303 and done.headers["location"].startswith(PANEL)
    assert running(engine)[0] == "1.1.0"
    assert "the rollout completed: 1.1.0 is stable" in admin_client.get(done.headers["location"]).text


def test_pause_resume_abort_and_rollback_do_what_the_api_does(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "staging", "1.0.0")
    deployed(engine, "staging", "1.1.0", strategy="staged", steps=STAGED)
    here = f"/console/environments/staging/servers/{NAME}/rollout"
    assert post(admin_client, f"{here}/pause", {}, here).status_code == 303
    assert running(engine, "staging")[3] == "paused"
    assert re.search(r"countdown paused by an operator: (9m\d+s|10m) left", admin_client.get(here).text)
    assert post(admin_client, f"{here}/resume", {}, here).status_code == 303
    assert running(engine, "staging")[3] == "progressing"
    assert post(admin_client, f"{here}/abort", {}, here).status_code == 303
    assert running(engine, "staging")[2:] == (0.0, "aborted")
    again = post(admin_client, f"{here}/abort", {}, here)
    assert again.status_code == 409 and "rollout_not_active" in again.text  # the API's refusal, in words
    deployed(engine, "staging", "1.2.0")
    back = post(admin_client, f"{here}/rollback", {"notes": "5xx"}, here)
    assert back.status_code == 303
    assert running(engine, "staging")[0] == "1.0.0"


def test_a_token_outside_the_namespace_can_neither_see_nor_press(
    client: TestClient, engine: sa.Engine
) -> None:
    canary_in_production(engine)
    sign_in(client, make_token(engine, "other-ops", ["deploy"], namespaces=["io.github.other/*"]))
    page = client.get(PANEL)
    assert page.status_code == 403 and "namespace_denied" in page.text
    token = csrf_of(client.get("/console/board").text)
    pressed = client.post(
        f"{PANEL}/rollback", data={"csrf": token, "acknowledge": "yes"}, headers={"Origin": ORIGIN}
    )
    assert pressed.status_code == 403 and "namespace_denied" in pressed.text
    assert running(engine) == ("1.0.0", "1.1.0", 10.0, "paused_manual")


def test_a_reader_sees_the_panel_with_every_button_off_and_why(client: TestClient, engine: sa.Engine) -> None:
    canary_in_production(engine)
    sign_in(client, make_token(engine, "viewer", ["read"]))
    offered = buttons(client.get(PANEL).text)
    assert set(offered) == {"Promote one step", "Promote fully", "Pause", "Resume", "Abort", "Roll back"}
    assert all("'deploy' scope" in reason for reason in offered.values())


def test_a_cross_origin_press_is_refused_and_changes_nothing(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    canary_in_production(engine)
    token = csrf_of(admin_client.get(PANEL).text)
    pressed = admin_client.post(
        f"{PANEL}/abort", data={"csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert pressed.status_code == 403 and "cross_origin" in pressed.text
    assert running(engine)[3] == "paused_manual"
