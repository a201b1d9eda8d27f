"""/v0.1 and /v0 answer as the official registry does where its clients match; /api keeps mcpreg's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.parity import dotted_path, updated_since
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.legacy import ImportItem
from mcpreg.domain.principal import SYSTEM
from mcpreg.errors import BadRequest
from mcpreg.services.importer import import_items
from tests.conftest import publish, server_doc
from tests.support.problems import assert_problem
from tests.support.spec import SpecSchemas

NAME = "io.github.acme/weather"
V01 = "/v0.1/servers/io.github.acme%2Fweather"
API = "/api/servers/io.github.acme/weather"
OFFICIAL = "io.modelcontextprotocol.registry/official"
PUBLISHER = "io.modelcontextprotocol.registry/publisher-provided"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def remote(url: str) -> list[dict[str, Any]]:
    return [{"type": "streamable-http", "url": url}]


# -- the official shapes, as pure functions ------------------------------------------------------


@pytest.mark.parametrize(
    ("pointer", "path"),
    [
        ("", ""),
        ("/version", "version"),
        ("/$schema", "$schema"),
        ("/packages/0/transport/url", "packages[0].transport.url"),
        ("/remotes/1/headers/0/name", "remotes[1].headers[0].name"),
        (
            "/_meta/io.modelcontextprotocol.registry~1publisher-provided",
            "_meta.io.modelcontextprotocol.registry/publisher-provided",
        ),
    ],
)
def test_json_pointers_become_the_official_dotted_paths(pointer: str, path: str) -> None:
    assert dotted_path(pointer) == path


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2025-08-07T13:15:04.280Z", "2025-08-07T13:15:04.280000+00:00"),
        ("2025-08-07T13:15:04Z", "2025-08-07T13:15:04+00:00"),
        ("2025-08-07T15:15:04+02:00", "2025-08-07T15:15:04+02:00"),
    ],
)
def test_updated_since_reads_rfc_3339_as_go_does(text: str, iso: str) -> None:
    parsed = updated_since(text)
    assert parsed is not None and parsed.isoformat() == iso
    assert updated_since(None) is None and updated_since("") is None
    with pytest.raises(BadRequest):
        updated_since(text.replace("T", " "))


# -- /validate ---------------------------------------------------------------------------


def test_validate_answers_the_official_issue_shape(app_api: httpx.Client) -> None:
    bad = server_doc(version="^1.0.0")
    bad["packages"][0]["transport"] = {"type": "stdio", "url": "https://x.example.com"}
    del bad["description"]
    result = app_api.post("/v0.1/validate", json=bad).json()
    assert set(result) == {"valid", "issues"} and result["valid"] is False
    by_path = {i["path"]: i for i in result["issues"]}
    assert set(by_path) >= {"description", "version", "packages[0].transport.url"}
    assert by_path["description"]["type"] == "schema"
    assert by_path["version"]["type"] == "semantic"
    for found in result["issues"]:
        assert set(found) == {"type", "path", "message", "severity", "reference"}
        assert found["severity"] == "error" and found["reference"] and found["message"]
    assert app_api.post("/v0.1/validate", json=server_doc()).json() == {"valid": True, "issues": []}
    assert app_api.post("/v0/validate", json=server_doc()).json() == {"valid": True, "issues": []}


def test_validate_reports_the_publish_time_rules_too(app_api: httpx.Client) -> None:
    doc = server_doc(repository={"url": "https://github.com/acme", "source": "github"})
    del doc["$schema"]
    issues = app_api.post("/v0.1/validate", json=doc).json()["issues"]
    assert {(i["path"], i["reference"]) for i in issues} == {
        ("$schema", "schema-required"),
        ("repository.url", "repository-url"),
    }


# -- the official texts and statuses ---------------------------------------------------------


def test_a_duplicate_version_is_a_400_with_the_official_text_and_our_code(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    for prefix in ("/v0.1", "/v0"):
        body = assert_problem(app_api.post(f"{prefix}/publish", json=server_doc()), 400, "version_exists")
        assert body["detail"] == "invalid version: cannot publish duplicate version"
        assert body["field"] == "/version"
    richer = assert_problem(app_api.post(f"{API}/drafts", json=server_doc()), 409, "version_exists")
    assert "never reused" in richer["detail"]


def test_an_unknown_server_is_server_not_found(app_api: httpx.Client, app_anon: httpx.Client) -> None:
    missing = "/v0.1/servers/io.github.acme%2Fnothing"
    for url in (f"{missing}/versions", f"{missing}/versions/latest", f"{missing}/versions/1.0.0"):
        body = assert_problem(app_anon.get(url), 404, "server_not_found")
        assert body["detail"] == "Server not found"
    publish(app_api, server_doc(version="1.0.0"))
    body = assert_problem(app_anon.get(f"{V01}/versions/9.9.9"), 404, "version_not_found")
    assert body["detail"] == "Server not found"
    ours = assert_problem(
        app_anon.get("/api/servers/io.github.acme/nothing/versions/latest"), 404, "server_not_found"
    )
    assert ours["detail"] != "Server not found"


def test_updated_since_is_exclusive(app_api: httpx.Client, app_anon: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    stamp = app_anon.get(f"{V01}/versions/1.0.0").json()["_meta"][OFFICIAL]["updatedAt"]
    assert app_anon.get("/v0.1/servers", params={"updated_since": stamp}).json()["servers"] == []
    publish(app_api, server_doc(version="1.1.0"))
    later = app_anon.get("/v0.1/servers", params={"updated_since": stamp}).json()["servers"]
    assert [s["server"]["version"] for s in later] == ["1.1.0"]


@pytest.mark.parametrize(
    "since",
    [
        "yesterday",
        "2025-08-07",
        "2025-08-07T13:15:04",
        "2025-13-07T13:15:04Z",
        "20250807T131504Z",
        "2025-08-07 13:15:04Z",
    ],
)
def test_a_malformed_updated_since_is_the_official_400(app_anon: httpx.Client, since: str) -> None:
    body = assert_problem(
        app_anon.get("/v0.1/servers", params={"updated_since": since}),
        400,
        "invalid_updated_since",
        "updated_since",
    )
    assert body["detail"].startswith("Invalid updated_since format")


def test_an_out_of_range_limit_stays_422(app_anon: httpx.Client) -> None:
    for limit in ("0", "101", "ten"):
        assert_problem(
            app_anon.get("/v0.1/servers", params={"limit": limit}), 422, "validation_failed", "limit"
        )


def test_versions_of_a_server_whose_only_version_is_deleted_honour_include_deleted(
    app_api: httpx.Client, app_anon: httpx.Client, spec: SpecSchemas
) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    app_api.delete(f"{V01}/versions/1.0.0")
    assert app_anon.get(f"{V01}/versions").status_code == 404
    assert app_anon.get(f"{V01}/versions/latest").status_code == 404
    for prefix in ("/v0.1", "/v0"):
        listed = app_anon.get(
            f"{prefix}/servers/io.github.acme%2Fweather/versions", params={"include_deleted": "true"}
        )
        assert listed.status_code == 200, listed.text
        assert spec.errors("ServerList", listed.json()) == []
        assert [s["_meta"][OFFICIAL]["status"] for s in listed.json()["servers"]] == ["deleted"]
    for ref in ("1.0.0", "latest"):
        one = app_anon.get(f"{V01}/versions/{ref}", params={"include_deleted": "true"})
        assert one.status_code == 200, one.text
        assert spec.errors("ServerResponse", one.json()) == []
        assert one.json()["_meta"][OFFICIAL]["status"] == "deleted"


# -- publish-time refusals ------------------------------------------------------------------


def test_a_remote_url_another_server_uses_is_refused(app_api: httpx.Client) -> None:
    url = "https://mcp.acme.example.com/weather"
    publish(app_api, server_doc(version="1.0.0", remotes=remote(url)))
    publish(app_api, server_doc(version="1.1.0", remotes=remote(url)))  # the same server may keep it
    other = server_doc(name="io.github.acme/copycat", remotes=remote(url))
    body = assert_problem(
        app_api.post("/v0.1/publish", json=other), 400, "remote_url_taken", "/remotes/0/url"
    )
    assert body["detail"] == f"remote URL {url} is already used by server {NAME}"
    drafted = app_api.post("/api/servers/io.github.acme/copycat/drafts", json=other)
    assert_problem(drafted, 409, "remote_url_taken")
    elsewhere = server_doc(name="io.github.acme/copycat", remotes=remote(url + "/v2"))
    assert publish(app_api, elsewhere).status_code == 200


def test_a_draft_cannot_take_a_remote_url_published_meanwhile(app_api: httpx.Client) -> None:
    url = "https://mcp.acme.example.com/maps"
    other = "/api/servers/io.github.acme/maps"
    drafted = app_api.post(
        f"{other}/drafts", json=server_doc(name="io.github.acme/maps", remotes=remote(url))
    )
    assert drafted.status_code == 201
    publish(app_api, server_doc(version="1.0.0", remotes=remote(url)))
    assert_problem(app_api.post(f"{other}/versions/1.0.0/publish"), 409, "remote_url_taken")


def test_a_deleted_servers_remote_url_can_be_used_again(app_api: httpx.Client) -> None:
    url = "https://mcp.acme.example.com/old"
    publish(app_api, server_doc(version="1.0.0", remotes=remote(url)))
    app_api.delete(f"{V01}/versions/1.0.0")
    assert publish(app_api, server_doc(name="io.github.acme/new", remotes=remote(url))).status_code == 200


@pytest.mark.parametrize(
    ("source", "url"),
    [
        ("github", "https://github.com/acme"),
        ("github", "https://github.com/"),
        ("github", "https://github.com/acme/weather/tree/main"),
        ("gitlab", "https://gitlab.com/acme"),
    ],
)
def test_a_forge_repository_url_that_names_no_repository_is_refused(
    app_api: httpx.Client, source: str, url: str
) -> None:
    doc = server_doc(repository={"url": url, "source": source})
    body = assert_problem(
        app_api.post("/v0.1/publish", json=doc), 400, "invalid_repository_url", "/repository/url"
    )
    assert body["detail"].startswith("invalid repository URL")


@pytest.mark.parametrize(
    ("source", "url"),
    [
        ("github", "https://github.com/acme/weather"),
        ("gitlab", "https://gitlab.com/acme/tools/weather"),
        ("gitea", "https://git.acme.internal/acme"),
    ],
)
def test_real_repository_urls_and_other_forges_are_allowed(
    app_api: httpx.Client, source: str, url: str
) -> None:
    assert publish(app_api, server_doc(repository={"url": url, "source": source})).status_code == 200


def test_a_publisher_meta_block_over_4_kb_is_a_400(app_api: httpx.Client) -> None:
    doc = server_doc(_meta={PUBLISHER: {"notes": "n" * 5000}})
    body = assert_problem(app_api.post("/v0.1/publish", json=doc), 400, "publisher_meta_too_large")
    assert body["detail"].startswith(f"_meta.{PUBLISHER} extension exceeds 4KB limit")
    assert publish(app_api, server_doc(_meta={PUBLISHER: {"notes": "n" * 3000}})).status_code == 200


def test_a_missing_schema_is_refused_with_the_current_schema_url(app_api: httpx.Client) -> None:
    doc = server_doc()
    del doc["$schema"]
    body = assert_problem(app_api.post("/v0.1/publish", json=doc), 400, "schema_required", "/$schema")
    assert body["detail"].startswith("$schema field is required") and SCHEMA_URL in body["detail"]
    assert_problem(app_api.post(f"{API}/drafts", json=doc), 400, "schema_required")


def test_a_status_message_with_status_active_is_refused(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    app_api.patch(f"{V01}/versions/1.0.0/status", json={"status": "deprecated", "statusMessage": "old"})
    active = {"status": "active", "statusMessage": "back"}
    body = assert_problem(
        app_api.patch(f"{V01}/versions/1.0.0/status", json=active),
        400,
        "status_message_not_allowed",
        "statusMessage",
    )
    assert body["detail"] == "status_message cannot be provided when setting status to active"
    assert_problem(app_api.patch(f"{V01}/status", json=active), 400, "status_message_not_allowed")
    restored = app_api.patch(f"{V01}/versions/1.0.0/status", json={"status": "active"})
    assert restored.status_code == 200 and "statusMessage" not in restored.json()["_meta"][OFFICIAL]


def test_a_status_patch_that_changes_nothing_is_refused_with_the_official_text(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    same = {"status": "deprecated", "statusMessage": "old"}
    assert app_api.patch(f"{V01}/versions/1.0.0/status", json=same).status_code == 200
    one = assert_problem(
        app_api.patch(f"{V01}/versions/1.0.0/status", json=same), 400, "no_changes", "status"
    )
    assert one["detail"] == "No changes to apply: status and message are already set to the provided values"
    every = assert_problem(app_api.patch(f"{V01}/status", json=same), 400, "no_changes")
    assert (
        every["detail"] == "No changes to apply: all versions already have the requested status and message"
    )


# -- PUT of a published version ---------------------------------------------------------------


def test_a_put_naming_another_version_or_server_gets_those_400s_before_the_409(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    renamed = app_api.put(f"{V01}/versions/1.0.0", json=server_doc(name="io.github.acme/other"))
    body = assert_problem(renamed, 400, "name_mismatch", "/name")
    assert body["detail"] == "Cannot rename server"
    moved = app_api.put(f"{V01}/versions/1.0.0", json=server_doc(version="1.0.1"))
    body = assert_problem(moved, 400, "version_mismatch", "/version")
    assert body["detail"] == "Version in request body must match URL path parameter"
    assert_problem(
        app_api.put(f"{API}/versions/1.0.0", json=server_doc(version="1.0.1")), 422, "version_mismatch"
    )
    assert_problem(
        app_api.put(f"{V01}/versions/1.0.0", json=server_doc(description="new")), 409, "immutable_release"
    )


def test_publishing_a_duplicate_of_an_imported_release_without_schema_needs_the_schema(
    app_api: httpx.Client, engine: sa.Engine
) -> None:
    legacy = server_doc()
    del legacy["$schema"]
    item = ImportItem(index=0, label="#0", document=legacy, status="active", skip_reason=None)
    with unit_of_work(engine, write=True) as session:
        assert len(import_items(session, SYSTEM, [item]).landed) == 1
    assert app_api.post(f"{API}/versions/1.0.0/duplicate", json={"version": "1.1.0"}).status_code == 201
    assert_problem(app_api.post(f"{API}/versions/1.1.0/publish"), 400, "schema_required", "/$schema")
    assert app_api.put(f"{API}/versions/1.1.0", json=server_doc(version="1.1.0")).status_code == 200
    assert app_api.post(f"{API}/versions/1.1.0/publish").status_code == 200


def test_the_remote_urls_of_imported_releases_and_edited_drafts_are_known(
    app_api: httpx.Client, engine: sa.Engine
) -> None:
    imported_url, drafted_url = (
        "https://mcp.acme.example.com/imported",
        "https://mcp.acme.example.com/drafted",
    )
    item = ImportItem(index=0, label="#0", document=server_doc(remotes=remote(imported_url)))
    with unit_of_work(engine, write=True) as session:
        assert len(import_items(session, SYSTEM, [item]).landed) == 1
    copycat = server_doc(name="io.github.acme/copycat", remotes=remote(imported_url))
    assert_problem(app_api.post("/v0.1/publish", json=copycat), 400, "remote_url_taken")
    assert (
        app_api.post(
            f"{API}/drafts", json=server_doc(version="2.0.0", remotes=remote(imported_url))
        ).status_code
        == 201
    )
    assert (
        app_api.put(
            f"{API}/versions/2.0.0", json=server_doc(version="2.0.0", remotes=remote(drafted_url))
        ).status_code
        == 200
    )
    assert app_api.post(f"{API}/versions/2.0.0/publish").status_code == 200
    moved = server_doc(name="io.github.acme/copycat", remotes=remote(drafted_url))
    assert_problem(app_api.post("/v0.1/publish", json=moved), 400, "remote_url_taken")
