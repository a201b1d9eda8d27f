"""The environment board, in process on both backends: columns in promotion order, what runs
in each cell, the last change, who may see and press what, and the live fragment."""

from __future__ import annotations

import re

import sqlalchemy as sa
from starlette.testclient import TestClient

from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import environments, health
from tests.conftest import make_token
from tests.console.conftest import sign_in
from tests.console.operations import OTHER, deployed, published
from tests.support.deploys import NAME

STAGED = [{"weight": 5, "pause": "10m"}, {"weight": 25, "pause": "manual"}]


def cell(html: str, server: str, env: str) -> str:
    """The board cell of ``server`` in ``env``."""
    row = html.split(f'<a href="/console/servers/{server}">', 1)[1].split("</tr>", 1)[0]
    return row.split(f'data-environment="{env}">', 1)[1].split("</td>", 1)[0]


def generation(html: str) -> int:
    found = re.search(r'data-generation="(\d+)"', html)
    assert found, "no generation on the fragment"
    return int(found.group(1))


def test_the_columns_are_the_environments_in_promotion_order(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "dev", "1.0.0")
    with unit_of_work(engine, write=True) as session:
        environments.create_environment(session, SYSTEM, {"name": "qa", "position": 1})
    page = admin_client.get("/console/board")
    assert page.status_code == 200
    head = page.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'<th scope="col">(\w+)', head) == ["Server", "dev", "qa", "staging", "production"]


def test_a_cell_shows_stable_canary_weight_step_time_to_next_and_the_last_change(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "production", "1.0.0")
    deployed(engine, "production", "1.1.0", strategy="staged", steps=STAGED)
    here = cell(admin_client.get("/console/board").text, NAME, "production")
    assert "<strong>1.0.0</strong>" in here
    assert "<strong>1.1.0</strong>" in here and 'value="5"' in here and "5%" in here
    assert "step 1 of 3" in here and "progressing" in here
    assert "data-countdown=" in here  # the next step's time, counted down by live.js
    assert re.search(r"deploy by alice, <time datetime=", here)
    assert "stable not checked yet" in here and "canary not checked yet" in here  # nothing invented
    assert "not deployed" in cell(admin_client.get("/console/board").text, NAME, "dev")
    with unit_of_work(engine, write=True) as session:
        health.record(session, "production", NAME, "1.0.0", True)
        for _ in range(3):
            health.record(session, "production", NAME, "1.1.0", False, "ConnectError")
    here = cell(admin_client.get("/console/board").text, NAME, "production")
    assert "stable healthy" in here and "canary unhealthy" in here


def test_anonymous_visitors_are_asked_to_sign_in(client: TestClient, engine: sa.Engine) -> None:
    published(engine)
    page = client.get("/console/board")
    assert page.status_code == 401
    assert "unauthenticated" in page.text and "/console/signin" in page.text


def test_a_namespace_limited_token_sees_only_its_servers_and_deploys_only_where_it_may(
    client: TestClient, engine: sa.Engine
) -> None:
    published(engine, NAME, OTHER)
    deployed(engine, "staging", "1.0.0")
    deployed(engine, "staging", "1.0.0", name=OTHER)
    sign_in(client, make_token(engine, "acme-ci", ["publish"], namespaces=["io.github.acme/*"]))
    page = client.get("/console/board").text
    assert NAME in page and OTHER not in page
    assert "Deploy io.github.acme/weather to staging" in cell(page, NAME, "staging")
    # production is protected: a publish token may not deploy there, so no link is offered.
    assert "Deploy…" not in cell(page, NAME, "production")
    assert "Promote…" not in cell(page, NAME, "staging")


def test_the_fragment_is_the_grid_alone_and_carries_a_generation_that_moves_with_a_change(
    admin_client: TestClient, engine: sa.Engine
) -> None:
    published(engine)
    deployed(engine, "dev", "1.0.0")
    first = admin_client.get("/console/board?fragment=1")
    assert first.status_code == 200 and "<html" not in first.text
    before = generation(first.text)
    deployed(engine, "dev", "1.1.0")
    second = admin_client.get("/console/board?fragment=1").text
    assert generation(second) > before
    assert "<strong>1.1.0</strong>" in cell(second, NAME, "dev")
