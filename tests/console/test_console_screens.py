"""The console's read screens and release actions, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mcpreg.api.runtime import runtime
from mcpreg.db.tables import JournalEntry, Release
from tests.conftest import make_token
from tests.console.conftest import ORIGIN, csrf_of, post, sign_in
from tests.console.scenario import OTHER, WEATHER, build, weather

SERVER_PAGE = f"/console/servers/{WEATHER}"
# One change on the compare page: its colour class, its sign, its word and its path.
CHANGE = re.compile(
    r'<li class="(\w+)" data-op="\w+">\s*<span class="sign" aria-hidden="true">(.)</span>'
    r"<strong>(\w+)</strong> <code>([^<]+)</code>"
)


@pytest.fixture
def catalogue(app: Starlette, engine: sa.Engine) -> None:
    build(engine, runtime(app).keyring)


def _versions_in_order(html: str) -> list[str]:
    return re.findall(r'<tr id="v-([^"]+)">', html)


@pytest.mark.usefixtures("catalogue")
def test_anyone_reads_the_catalogue_and_the_published_history_newest_semver_first(client: TestClient) -> None:
    page = client.get("/console/")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert WEATHER in page.text and OTHER in page.text
    assert "latest → 1.1.0" in page.text
    assert "production: 1.0.0" in page.text
    found = client.get("/console/", params={"q": "tides"}).text
    assert OTHER in found and WEATHER not in found
    assert "No server has a deprecated release" in client.get("/console/?status=deprecated").text
    refused = client.get("/console/?status=bogus")
    assert refused.status_code == 422 and "invalid_status" in refused.text

    # Anonymous: the published history newest SemVer first, no drafts, no actions.
    page = client.get(SERVER_PAGE).text
    assert _versions_in_order(page) == ["2.0.0-rc.1", "1.1.0", "1.0.0"]
    assert '<span class="tag pre">pre-release</span>' in page
    assert "production (stable)" in page
    assert re.search(r'<time datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"', page)
    assert "just now" in page
    assert "/duplicate" not in page and 'name="csrf"' not in page


@pytest.mark.usefixtures("catalogue")
def test_a_publisher_sees_drafts_and_can_duplicate_deprecate_restore_and_move_a_channel(
    client: TestClient, engine: sa.Engine
) -> None:
    sign_in(client, make_token(engine, "pat", ["publish"], namespaces=["io.github.acme/*"]))
    page = client.get(SERVER_PAGE).text
    assert _versions_in_order(page) == ["2.0.0", "2.0.0-rc.1", "1.1.0", "1.0.0"]
    assert '<span class="tag draft">draft</span>' in page

    done = post(client, f"{SERVER_PAGE}/versions/1.1.0/duplicate", {"version": "1.2.0"}, SERVER_PAGE)
    assert done.status_code == 303 and "Draft+1.2.0+created" in done.headers["location"]
    deprecated = post(
        client,
        f"{SERVER_PAGE}/versions/1.0.0/status",
        {"status": "deprecated", "message": "use 1.1"},
        SERVER_PAGE,
    )
    assert deprecated.status_code == 303
    moved = post(client, f"{SERVER_PAGE}/channels", {"channel": "stable", "version": "1.1.0"}, SERVER_PAGE)
    assert moved.status_code == 303
    page = client.get(SERVER_PAGE).text
    assert "use 1.1" in page and '<span class="tag deprecated">deprecated</span>' in page
    assert "stable → 1.1.0" in page
    restored = post(client, f"{SERVER_PAGE}/versions/1.0.0/status", {"status": "active"}, SERVER_PAGE)
    assert restored.status_code == 303
    with Session(engine) as s:
        statuses = {
            r.version: r.status for r in s.exec(select(Release).where(Release.server_name == WEATHER))
        }
        actors = {e.action: e.actor for e in s.exec(select(JournalEntry))}
    assert statuses["1.2.0"] == "draft" and statuses["1.0.0"] == "active"
    assert actors["release.duplicate"] == "pat" and actors["channel.set"] == "pat"


@pytest.mark.usefixtures("catalogue")
def test_deleting_a_running_release_is_refused_in_words_and_changes_nothing(
    client: TestClient, engine: sa.Engine
) -> None:
    sign_in(client, make_token(engine, "pat", ["publish"]))
    refused = post(client, f"{SERVER_PAGE}/versions/1.0.0/status", {"status": "deleted"}, SERVER_PAGE)
    assert refused.status_code == 409
    assert "release_in_use" in refused.text and "production (stable)" in refused.text
    with Session(engine) as s:
        release = s.exec(
            select(Release).where(Release.version == "1.0.0", Release.server_name == WEATHER)
        ).one()
    assert release.status == "active"


@pytest.mark.usefixtures("catalogue")
def test_editing_a_published_release_offers_to_duplicate_it_and_a_draft_is_edited_and_published(
    client: TestClient, engine: sa.Engine
) -> None:
    sign_in(client, make_token(engine, "pat", ["publish"]))
    page = client.get(f"{SERVER_PAGE}/versions/1.1.0/edit").text
    assert "a published release is never edited" in page
    assert f'action="{SERVER_PAGE}/versions/1.1.0/duplicate"' in page
    assert "<textarea" not in page
    draft = client.get(f"{SERVER_PAGE}/versions/2.0.0/edit").text
    assert "<textarea" in draft

    # A draft is edited as its server.json, then published from the server page.
    document = weather("2.0.0", description="Weather, rewritten")
    saved = post(
        client, f"{SERVER_PAGE}/versions/2.0.0/edit", {"document": json.dumps(document)}, SERVER_PAGE
    )
    assert saved.status_code == 303
    published = post(client, f"{SERVER_PAGE}/versions/2.0.0/publish", {}, SERVER_PAGE)
    assert published.status_code == 303 and "2.0.0+is+published" in published.headers["location"]
    with Session(engine) as s:
        release = s.exec(
            select(Release).where(Release.server_name == WEATHER, Release.version == "2.0.0")
        ).one()
    assert (release.status, release.description) == ("active", "Weather, rewritten")


@pytest.mark.usefixtures("catalogue")
def test_a_namespace_limited_token_neither_sees_nor_may_press_what_is_outside(
    client: TestClient, engine: sa.Engine
) -> None:
    sign_in(client, make_token(engine, "otter", ["publish"], namespaces=["io.github.other/*"]))
    page = client.get(SERVER_PAGE).text
    assert "2.0.0</th>" not in page.replace("2.0.0-rc.1", "")  # the draft stays hidden
    assert "/duplicate" not in page
    token = csrf_of(client.get(f"/console/servers/{OTHER}").text)
    pressed = client.post(
        f"{SERVER_PAGE}/versions/1.1.0/status",
        data={"csrf": token, "status": "deprecated"},
        headers={"Origin": ORIGIN},
    )
    assert pressed.status_code == 403 and "namespace_denied" in pressed.text
    assert client.get(f"{SERVER_PAGE}/config").status_code == 403


@pytest.mark.usefixtures("catalogue")
def test_compare_shows_additions_removals_and_changes_identity_matched(client: TestClient) -> None:
    page = client.get(f"{SERVER_PAGE}/compare", params={"from": "1.0.0", "to": "1.1.0"}).text
    shown = set(CHANGE.findall(page))
    assert shown == {
        ("changed", "~", "changed", "/description"),
        ("added", "+", "added", "/packages/0/environmentVariables"),
        ("changed", "~", "changed", "/packages/0/version"),
        ("added", "+", "added", "/remotes"),
        ("changed", "~", "changed", "/version"),
    }
    back = client.get(f"{SERVER_PAGE}/compare", params={"from": "1.1.0", "to": "1.0.0"}).text
    assert ("removed", "-", "removed", "/remotes") in set(CHANGE.findall(back))


@pytest.mark.usefixtures("catalogue")
def test_history_filters_by_server_environment_and_action_and_needs_a_token(
    client: TestClient, engine: sa.Engine
) -> None:
    assert client.get("/console/history").status_code == 401
    sign_in(client, make_token(engine, "root", ["admin"]))
    page = client.get("/console/history").text
    assert "Deployments in dev" in page  # the first environment, until one is chosen
    assert "release.publish" in page  # the journal, for admins
    page = client.get("/console/history", params={"environment": "production"}).text
    assert "Deployments in production" in page and WEATHER in page
    assert "deploy.deploy" in page and "release.publish" not in page  # the journal of production
    none = client.get("/console/history", params={"environment": "production", "action": "rollback"}).text
    assert "Nothing was deployed here" in none
    journal = client.get("/console/history", params={"entry": "secret."}).text
    assert "secret.set" in journal and "release.publish" not in journal

    # A namespace-limited token reads only its servers' deployments, and no journal.
    client.cookies.clear()
    sign_in(client, make_token(engine, "otter", ["read"], namespaces=["io.github.other/*"]))
    page = client.get("/console/history", params={"environment": "production"}).text
    assert "Deployments in production" in page and WEATHER not in page
    assert "The change journal is for admin tokens" in page


@pytest.mark.usefixtures("catalogue")
def test_bad_input_is_refused_by_code_never_a_server_error(client: TestClient, engine: sa.Engine) -> None:
    sign_in(client, make_token(engine, "root", ["admin"]))
    reads = {
        "/console/servers/io.github.acme/nothing": "server_not_found",
        f"{SERVER_PAGE}/compare?from=1.0.0&to=9.9.9": "version_not_found",
        f"{SERVER_PAGE}/versions/9.9.9/edit": "version_not_found",
        "/console/history?cursor=abc": "invalid_cursor",
        "/console/history?action=explode": "validation_failed",
        "/console/history?environment=nowhere": "environment_not_found",
        f"{SERVER_PAGE}/config?version=9.9.9": "version_not_found",
        f"{SERVER_PAGE}/config?environment=nowhere": "environment_not_found",
        "/console/?q=" + "x" * 201: "validation_failed",
    }
    for path, code in reads.items():
        answer = client.get(path)
        assert 400 <= answer.status_code < 500 and code in answer.text, (path, answer.status_code)
    writes = {
        f"{SERVER_PAGE}/versions/1.1.0/duplicate": ({"version": "v2"}, "invalid_version"),
        f"{SERVER_PAGE}/versions/1.1.0/status": ({"status": "gone"}, "invalid_status"),
        f"{SERVER_PAGE}/versions/1.1.0/edit": ({"document": "{}"}, "immutable_release"),
        f"{SERVER_PAGE}/versions/2.0.0/edit": ({"document": "{not json"}, "validation_failed"),
        f"{SERVER_PAGE}/channels": ({"channel": "latest", "version": "1.0.0"}, "reserved_channel"),
        f"{SERVER_PAGE}/config/variables": (
            {"name": "X", "value": "1", "where": "moon"},
            "validation_failed",
        ),
        f"{SERVER_PAGE}/config/secrets": ({"name": "bad name", "value": "v"}, "invalid_name"),
    }
    for path, (data, code) in writes.items():
        answer = post(client, path, data, SERVER_PAGE)
        assert 400 <= answer.status_code < 500 and code in answer.text, (
            path,
            answer.status_code,
            answer.text[-600:],
        )


@pytest.mark.usefixtures("catalogue")
def test_the_catalogue_pages_by_server_name(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcpreg.console import catalogue as screen

    monkeypatch.setattr(screen, "PAGE_SIZE", 1)
    first = client.get("/console/").text
    assert WEATHER in first and OTHER not in first  # by name: acme before other
    following = re.search(r'href="(/console/\?[^"]*cursor=[^"]+)" rel="next"', first)
    assert following is not None
    second = client.get(following.group(1).replace("&amp;", "&")).text
    assert OTHER in second and WEATHER not in second
    assert 'rel="next"' not in second and "First page" in second
