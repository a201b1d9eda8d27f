"""The configuration screen: secrets as names only; reveal needs secrets:read and a reason, journaled."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mcpreg.api.runtime import runtime
from mcpreg.db.tables import JournalEntry
from tests.conftest import make_token
from tests.console.conftest import post, sign_in
from tests.console.scenario import WEATHER, build

CONFIG = f"/console/servers/{WEATHER}/config"
SECRET = "s3cr3t-value"


@pytest.fixture
def catalogue(app: Starlette, engine: sa.Engine) -> None:
    build(engine, runtime(app).keyring)


@pytest.mark.usefixtures("catalogue")
def test_secrets_are_names_only_and_a_reveal_needs_the_scope_and_a_reason_and_is_journaled(
    client: TestClient, engine: sa.Engine
) -> None:
    assert client.get(CONFIG).status_code == 401
    sign_in(client, make_token(engine, "pat", ["publish"]))
    page = client.get(CONFIG).text
    assert "API_KEY" in page and "LOG_LEVEL" in page and "info" in page
    assert SECRET not in page and "********" in page
    assert '<button type="button" disabled' in page and "secrets:read" in page
    refused = post(client, f"{CONFIG}/reveal", {"version": "1.1.0", "reason": "curious"}, CONFIG)
    assert refused.status_code == 403 and "permission_denied" in refused.text and SECRET not in refused.text

    # With secrets:read: a reason is needed, the values show on that answer only, journaled.
    client.cookies.clear()
    sign_in(client, make_token(engine, "sre", ["read", "secrets:read"]))
    without = post(client, f"{CONFIG}/reveal", {"version": "1.1.0"}, CONFIG)
    assert without.status_code == 422 and "reason" in without.text
    shown = post(client, f"{CONFIG}/reveal", {"version": "1.1.0", "reason": "incident 42"}, CONFIG)
    assert shown.status_code == 200 and SECRET in shown.text
    assert shown.headers["cache-control"] == "no-store"
    with Session(engine) as s:
        (entry,) = s.exec(select(JournalEntry).where(JournalEntry.action == "config.reveal")).all()
    assert (entry.actor, entry.reason) == ("sre", "incident 42")
    assert SECRET not in (entry.after or "")
    assert SECRET not in client.get(CONFIG).text


@pytest.mark.usefixtures("catalogue")
def test_setting_a_secret_uses_a_password_field_and_never_echoes_it(
    client: TestClient, engine: sa.Engine
) -> None:
    sign_in(client, make_token(engine, "pat", ["publish"]))
    page = client.get(CONFIG).text
    assert 'id="secret-value" name="value" type="password"' in page
    done = post(
        client, f"{CONFIG}/secrets", {"name": "DB_PASSWORD", "value": "hunter2-x", "where": "server"}, CONFIG
    )
    assert done.status_code == 303 and "hunter2" not in done.headers["location"]
    after = client.get(done.headers["location"]).text
    assert "DB_PASSWORD" in after and "hunter2-x" not in after
    set_var = post(
        client,
        f"{CONFIG}/variables",
        {"name": "REGION", "value": "eu", "where": "version:1.1.0"},
        CONFIG,
    )
    assert set_var.status_code == 303
    assert "REGION" in client.get(CONFIG).text
    # An environment's configuration is the deployers' (the API's rule): refused in words.
    refused = post(
        client, f"{CONFIG}/variables", {"name": "TIER", "value": "x", "where": "environment:staging"}, CONFIG
    )
    assert refused.status_code == 403 and "permission_denied" in refused.text
