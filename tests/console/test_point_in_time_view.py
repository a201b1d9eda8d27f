"""The point-in-time screen, in process on both backends: what ran in every environment at a
chosen moment, from the deployment history, within what the token may read."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select
from starlette.testclient import TestClient

from mcpreg.db.deploy_tables import DeploymentEvent
from mcpreg.domain.timestamps import rfc3339
from tests.conftest import make_token
from tests.console.conftest import sign_in
from tests.console.operations import OTHER, deployed, moved, published
from tests.support.deploys import NAME


def instants(engine: sa.Engine) -> list[datetime]:
    """Each history event's instant, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(DeploymentEvent.at).order_by(col(DeploymentEvent.id))))


def row(html: str, env: str, server: str = NAME) -> str:
    heading = re.search(rf'<h2 id="env-\d+">{env}[ <]', html)
    assert heading, f"no section for {env}"
    section = html[heading.end() :].split("</section>", 1)[0]
    if f'data-server="{server}"' not in section:
        return ""
    return section.split(f'data-server="{server}">', 1)[1].split("</tr>", 1)[0]


def test_each_moment_shows_the_stable_and_the_canary_with_its_weight_that_ran_then(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "production", "1.0.0")
    deployed(engine, "production", "1.1.0", strategy="canary", weight=10)
    moved(engine, "production", "abort")
    first, canary, aborted = (rfc3339(moment) for moment in instants(engine))
    at = lambda moment: admin_client.get("/console/point-in-time", params={"at": moment}).text  # noqa: E731
    assert '<td class="stable">1.0.0</td>' in row(at(first), "production")
    during = row(at(canary), "production")
    assert '<td class="stable">1.0.0</td>' in during and "1.1.0" in during and "10%" in during
    assert "deploy by alice" in during
    after = row(at(aborted), "production")
    assert (
        "1.1.0" not in after.split('class="canary">', 1)[1].split("</td>", 1)[0]
    )  # no traffic after the abort
    assert "abort by alice" in after
    assert row(at("2001-01-01T00:00"), "production") == ""  # before anything ran
    assert "Nothing you may see ran here then." in at("2001-01-01T00:00")


def test_a_moment_without_a_zone_is_utc_and_a_bad_one_is_refused_naming_the_field(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    page = admin_client.get("/console/point-in-time", params={"at": "2030-01-31T18:00"})
    assert page.status_code == 200 and "At 2030-01-31 18:00:00 UTC" in page.text
    assert "in the future" in page.text
    bad = admin_client.get("/console/point-in-time", params={"at": "yesterday"})
    assert bad.status_code == 422 and "validation_failed" in bad.text and "at must be" in bad.text


def test_a_limited_token_sees_only_its_servers_and_environments(
    client: TestClient, engine: sa.Engine
) -> None:
    published(engine, NAME, OTHER)
    deployed(engine, "staging", "1.0.0")
    deployed(engine, "staging", "1.0.0", name=OTHER)
    deployed(engine, "production", "1.0.0")
    token = make_token(
        engine, "acme-staging", ["read"], namespaces=["io.github.acme/*"], environments=["staging"]
    )
    sign_in(client, token)
    later = rfc3339(instants(engine)[-1] + timedelta(seconds=1))
    html = client.get("/console/point-in-time", params={"at": later}).text
    assert row(html, "staging") != "" and OTHER not in html
    assert not re.search(r'<h2 id="env-\d+">(production|dev)', html)
    assert client.get("/console/point-in-time").status_code == 200
    client.cookies.clear()
    assert client.get("/console/point-in-time").status_code == 401
