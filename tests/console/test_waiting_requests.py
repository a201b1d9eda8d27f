"""Approve and Cancel of waiting deploy requests on the rollout panel, in process on both
backends: each behind a confirmation naming the version and environment (the protected
environment's box for an approval), calling the same services as the API; disabled with the
reason when known ahead (your own request, a scheduled one, no deploy scope); a refusal the
service still makes shown in its words; another namespace's token sees and presses nothing."""

from __future__ import annotations

import re
from html import unescape

import sqlalchemy as sa
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from mcpreg.db.deploy_tables import Deployment
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import environments
from tests.conftest import make_token
from tests.console.conftest import ORIGIN, csrf_of, post, sign_in
from tests.console.operations import PANEL, deployed, published
from tests.support.deploys import NAME

LATER = "2030-01-31T18:00:00Z"


def needing_approval(engine: sa.Engine) -> int:
    """production requires approval; alice asked for 1.1.0 as a 10% canary over 1.0.0."""
    published(engine)
    deployed(engine, "production", "1.0.0")
    with unit_of_work(engine, write=True) as session:
        environments.update_environment(session, SYSTEM, "production", {"requiresApproval": True})
    deployed(engine, "production", "1.1.0", strategy="canary", weight=10)
    return newest(engine).id or 0


def newest(engine: sa.Engine) -> Deployment:
    with Session(engine) as session:
        found = session.exec(select(Deployment).order_by(col(Deployment.id).desc())).first()
        assert found is not None
        return found


def decisions(html: str, deployment: int) -> dict[str, str]:
    """The request's buttons: label -> ``on``, or the reason it is off."""
    item = html.split(f'<li data-deployment="{deployment}">', 1)[1].split("</dialog>", 1)[0]
    found = {
        label: "on" for label in re.findall(rf'data-dialog="confirm-\w+-{deployment}"[^>]*>([^<]+)</a>', item)
    }
    off = rf'disabled[^>]*>([^<]+)</button>\s*<span class="muted" id="why-\w+-{deployment}">'
    for label, reason in re.findall(off + r"Not now: ([^<]+)</span>", item):
        found[label] = unescape(reason)
    return found


def confirm(deployment: int, decision: str, env: str = "production") -> str:
    return f"/console/environments/{env}/deployments/{deployment}/{decision}"


def test_another_principal_approves_behind_the_protected_box_and_the_canary_runs(
    client: TestClient, engine: sa.Engine
) -> None:
    asked = needing_approval(engine)
    sign_in(client, make_token(engine, "bob", ["deploy"]))
    panel = client.get(PANEL).text
    assert "waits for approval by another principal" in panel
    assert decisions(panel, asked) == {"Approve": "on", "Cancel request": "on"}
    page = client.get(confirm(asked, "approve")).text
    says = f"Approve deployment #{asked}: 1.1.0 (canary at 10%) of {NAME} to production, requested by alice"
    assert says in unescape(page) and "it applies in production at once." in page
    assert 'name="acknowledge"' in page  # production is protected
    refused = post(client, confirm(asked, "approve"), {}, PANEL)
    assert refused.status_code == 422 and "tick the box to confirm the approval" in refused.text
    assert newest(engine).state == "pending_approval"
    done = post(client, confirm(asked, "approve"), {"acknowledge": "yes", "notes": "checked"}, PANEL)
    assert done.status_code == 303 and done.headers["location"].startswith(PANEL)
    assert newest(engine).state == "applied" and newest(engine).approved_by == "bob"
    after = client.get(done.headers["location"]).text
    assert f"approved deployment #{asked}" in after and "Waiting" not in after


def test_your_own_request_is_off_with_the_reason_and_the_service_refuses_it_in_words(
    client: TestClient, engine: sa.Engine
) -> None:
    asked = needing_approval(engine)
    sign_in(client, make_token(engine, "alice", ["deploy"]))
    offered = decisions(client.get(PANEL).text, asked)
    assert offered["Approve"].startswith("you requested it") and offered["Cancel request"] == "on"
    pressed = post(client, confirm(asked, "approve"), {"acknowledge": "yes"}, PANEL)
    assert pressed.status_code == 403 and "self_approval" in pressed.text
    assert "This does not apply now: you requested it" in pressed.text
    assert newest(engine).state == "pending_approval"


def test_cancel_withdraws_a_scheduled_request_which_approve_does_not_apply_to(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "staging", "1.0.0")
    deployed(engine, "staging", "1.1.0", scheduled_at=LATER)
    asked = newest(engine).id or 0
    here = f"/console/environments/staging/servers/{NAME}/rollout"
    panel = admin_client.get(here).text
    assert "scheduled for 2030-01-31 18:00:00 UTC" in panel
    offered = decisions(panel, asked)
    assert offered["Approve"] == "it is scheduled, not waiting for approval"
    page = admin_client.get(confirm(asked, "cancel", "staging")).text
    assert f"Cancel deployment #{asked}: 1.1.0 (immediate) of {NAME} to staging" in unescape(page)
    assert 'name="acknowledge"' not in page  # staging is not protected
    done = post(admin_client, confirm(asked, "cancel", "staging"), {}, here)
    assert done.status_code == 303 and newest(engine).state == "cancelled"
    assert "Waiting" not in admin_client.get(here).text
    again = post(admin_client, confirm(asked, "cancel", "staging"), {}, here)
    assert again.status_code == 409 and "not_cancellable" in again.text
    assert f"deployment #{asked} is cancelled: nothing waits" in again.text


def test_a_reader_sees_both_buttons_off_and_why(client: TestClient, engine: sa.Engine) -> None:
    asked = needing_approval(engine)
    sign_in(client, make_token(engine, "viewer", ["read"]))
    offered = decisions(client.get(PANEL).text, asked)
    assert set(offered) == {"Approve", "Cancel request"}
    assert all("'deploy' scope" in reason for reason in offered.values())


def test_another_namespace_can_neither_see_nor_press_and_a_cross_origin_press_is_refused(
    client: TestClient, engine: sa.Engine
) -> None:
    asked = needing_approval(engine)
    sign_in(client, make_token(engine, "otter", ["deploy"], namespaces=["io.github.other/*"]))
    seen = client.get(confirm(asked, "approve"))
    assert seen.status_code == 403 and "namespace_denied" in seen.text
    token = csrf_of(client.get("/console/board").text)
    pressed = client.post(confirm(asked, "cancel"), data={"csrf": token}, headers={"Origin": ORIGIN})
    assert pressed.status_code == 403 and "namespace_denied" in pressed.text
    elsewhere = client.post(
        confirm(asked, "cancel"), data={"csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403 and "cross_origin" in elsewhere.text
    assert newest(engine).state == "pending_approval"
    unknown = client.get(confirm(asked, "explode"))
    assert unknown.status_code == 404 and "not_found" in unknown.text
    for beyond in (asked + 100, 2**64):  # no such row; past any row id (never bound, never a 500)
        missing = client.get(confirm(beyond, "approve"))
        assert missing.status_code == 404 and "deployment_not_found" in missing.text
