"""Console writes are same-origin and carry the session's CSRF token; anything else changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mcpreg.api.runtime import runtime
from mcpreg.db.tables import Release
from tests.conftest import make_token
from tests.console.conftest import ORIGIN, csrf_of, sign_in
from tests.console.scenario import WEATHER, build

STATUS = f"/console/servers/{WEATHER}/versions/1.1.0/status"


@pytest.fixture
def signed_in(app: Starlette, engine: sa.Engine, client: TestClient) -> str:
    build(engine, runtime(app).keyring)
    sign_in(client, make_token(engine, "pat", ["publish"]))
    return csrf_of(client.get(f"/console/servers/{WEATHER}").text)


def _status(engine: sa.Engine) -> str:
    with Session(engine) as s:
        return s.exec(
            select(Release.status).where(Release.server_name == WEATHER, Release.version == "1.1.0")
        ).one()


# Another site's origin, an opaque one, another site's referer, and neither header.
FOREIGN = (
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {},
)


def test_a_cross_origin_post_is_refused_and_changes_nothing(
    client: TestClient, engine: sa.Engine, signed_in: str
) -> None:
    for headers in FOREIGN:
        refused = client.post(STATUS, data={"csrf": signed_in, "status": "deprecated"}, headers=headers)
        assert refused.status_code == 403, headers
        assert "cross_origin" in refused.text, headers
    assert _status(engine) == "active"


def test_a_post_without_the_sessions_csrf_token_is_refused(
    client: TestClient, engine: sa.Engine, signed_in: str
) -> None:
    for data in ({"status": "deprecated"}, {"csrf": "forged", "status": "deprecated"}):
        refused = client.post(STATUS, data=data, headers={"Origin": ORIGIN})
        assert refused.status_code == 403 and "csrf_failed" in refused.text
    assert _status(engine) == "active"
    accepted = client.post(
        STATUS, data={"csrf": signed_in, "status": "deprecated"}, headers={"Origin": ORIGIN}
    )
    assert accepted.status_code == 303 and _status(engine) == "deprecated"


def test_the_sign_in_form_needs_its_own_double_submit_token(client: TestClient, engine: sa.Engine) -> None:
    token = make_token(engine, "pat", ["read"])
    client.get("/console/signin")
    refused = client.post(
        "/console/signin", data={"token": token, "csrf": "guess"}, headers={"Origin": ORIGIN}
    )
    assert refused.status_code == 403 and "csrf_failed" in refused.text
    assert "mcpreg_console=" not in " ".join(refused.headers.get_list("set-cookie"))
