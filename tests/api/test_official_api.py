"""The official Registry API over a real uvicorn server, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.db.engine import unit_of_work
from mcpreg.domain.legacy import ImportItem
from mcpreg.domain.principal import SYSTEM
from mcpreg.services.importer import import_items
from tests.conftest import publish, server_doc
from tests.support.spec import SpecSchemas

OFFICIAL = "io.modelcontextprotocol.registry/official"


def enc(name: str) -> str:
    return quote(name, safe="")


def test_publishing_all_of_seed_json_reads_every_document_back_unchanged(
    app_api: httpx.Client, seed_servers: list[dict[str, Any]], spec: SpecSchemas
) -> None:
    for doc in seed_servers:
        body = publish(app_api, doc).json()
        assert spec.errors("ServerResponse", body) == []
        assert body["server"] == doc
    for doc in seed_servers:
        got = app_api.get(f"/v0.1/servers/{enc(doc['name'])}/versions/{doc['version']}")
        assert got.status_code == 200
        assert got.json()["server"] == doc
        assert list(got.json()["server"]) == list(doc), "key order is kept"


def test_list_version_and_detail_responses_are_valid_against_the_spec(
    app_api: httpx.Client, app_anon: httpx.Client, spec: SpecSchemas
) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    publish(app_api, server_doc(version="1.1.0-rc.1"))
    for prefix in ("/v0.1", "/v0"):
        listing = app_anon.get(f"{prefix}/servers")
        assert listing.status_code == 200
        assert spec.errors("ServerList", listing.json()) == []
        versions = app_anon.get(f"{prefix}/servers/{enc('io.github.acme/weather')}/versions")
        assert spec.errors("ServerList", versions.json()) == []
        detail = app_anon.get(f"{prefix}/servers/io.github.acme/weather/versions/latest")
        assert spec.errors("ServerResponse", detail.json()) == []
        assert detail.json()["server"]["version"] == "1.0.0"
        assert detail.json()["_meta"][OFFICIAL]["isLatest"] is True


def test_encoded_and_plain_server_names_reach_the_same_release(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    publish(app_api, server_doc(version="2.0.0+build.7"))
    plain = app_anon.get("/v0.1/servers/io.github.acme/weather/versions/2.0.0%2Bbuild.7")
    encoded = app_anon.get("/v0.1/servers/io.github.acme%2Fweather/versions/2.0.0%2Bbuild.7")
    assert plain.status_code == encoded.status_code == 200
    assert plain.json() == encoded.json()


def _bulk_load(engine: sa.Engine, count: int) -> None:
    items = [
        ImportItem(
            index=i,
            label=f"#{i}",
            document=server_doc(name=f"com.example.n{i:04d}/srv", version=f"1.{i % 3}.0"),
            status="active",
            skip_reason=None,
            source_format="server.json",
        )
        for i in range(count)
    ]
    with unit_of_work(engine, write=True) as session:
        report = import_items(session, SYSTEM, items)
    assert len(report.landed) == count


@pytest.mark.parametrize("limit", [100, 7])
def test_cursor_pagination_over_more_than_250_servers_misses_and_repeats_nothing(
    engine: sa.Engine, app_api: httpx.Client, app_anon: httpx.Client, limit: int
) -> None:
    _bulk_load(engine, 260)
    publish(
        app_api, server_doc(name="com.example.n0001/srv", version="9.0.0")
    )  # a second version of one server
    seen: list[tuple[str, str]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = app_anon.get("/v0.1/servers", params=params).json()
        assert page["metadata"]["count"] == len(page["servers"]) <= limit
        seen.extend((s["server"]["name"], s["server"]["version"]) for s in page["servers"])
        cursor = page["metadata"].get("nextCursor")
        pages += 1
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 261
    assert pages == -(-261 // limit)


def test_version_latest_lists_one_entry_per_server(
    engine: sa.Engine, app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    for version in ("1.0.0", "1.2.0", "2.0.0-rc.1"):
        publish(app_api, server_doc(version=version))
    publish(app_api, server_doc(name="io.github.acme/maps", version="0.1.0"))
    listing = app_anon.get("/v0.1/servers", params={"version": "latest"}).json()
    assert sorted((s["server"]["name"], s["server"]["version"]) for s in listing["servers"]) == [
        ("io.github.acme/maps", "0.1.0"),
        ("io.github.acme/weather", "1.2.0"),
    ]
    exact = app_anon.get("/v0.1/servers", params={"version": "2.0.0-rc.1"}).json()
    assert [s["server"]["version"] for s in exact["servers"]] == ["2.0.0-rc.1"]


def test_search_matches_name_and_description_case_insensitively(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    publish(app_api, server_doc(name="io.github.acme/weather"))
    publish(app_api, server_doc(name="io.github.acme/maps", description="Street MAPS and routing"))
    by_name = app_anon.get("/v0.1/servers", params={"search": "WEATH"}).json()["servers"]
    by_description = app_anon.get("/v0.1/servers", params={"search": "maps and"}).json()["servers"]
    wildcard = app_anon.get("/v0.1/servers", params={"search": "%"}).json()["servers"]
    assert [s["server"]["name"] for s in by_name] == ["io.github.acme/weather"]
    assert [s["server"]["name"] for s in by_description] == ["io.github.acme/maps"]
    assert wildcard == []


def test_updated_since_returns_changes_including_deleted(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    first = app_anon.get("/v0.1/servers/io.github.acme/weather/versions/1.0.0").json()
    stamp = first["_meta"][OFFICIAL]["updatedAt"]
    publish(app_api, server_doc(version="1.1.0"))
    app_api.patch("/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0/status", json={"status": "deleted"})
    changed = app_anon.get("/v0.1/servers", params={"updated_since": stamp}).json()["servers"]
    assert {s["server"]["version"]: s["_meta"][OFFICIAL]["status"] for s in changed} == {
        "1.0.0": "deleted",
        "1.1.0": "active",
    }
    plain = app_anon.get("/v0.1/servers").json()["servers"]
    assert [s["server"]["version"] for s in plain] == ["1.1.0"]
    with_deleted = app_anon.get("/v0.1/servers", params={"include_deleted": "true"}).json()["servers"]
    assert [s["server"]["version"] for s in with_deleted] == ["1.1.0", "1.0.0"]


def test_versions_come_newest_first_by_precedence(app_api: httpx.Client, app_anon: httpx.Client) -> None:
    order = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
    ]
    order += ["1.0.0-rc.1", "1.0.0-rc.9", "1.0.0-rc.10", "1.0.0"]
    for version in reversed(order[:5]):
        publish(app_api, server_doc(version=version))
    for version in order[5:]:
        publish(app_api, server_doc(version=version))
    listed = app_anon.get("/v0.1/servers/io.github.acme%2Fweather/versions").json()["servers"]
    assert [s["server"]["version"] for s in listed] == list(reversed(order))


def test_health_ping_and_version_answer(app_anon: httpx.Client) -> None:
    for prefix in ("/v0.1", "/v0"):
        assert app_anon.get(f"{prefix}/health").json() == {"status": "ok"}
        assert app_anon.get(f"{prefix}/ping").json() == {"pong": True}
        assert "version" in app_anon.get(f"{prefix}/version").json()


def test_reads_send_an_etag_and_answer_if_none_match_with_304(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    publish(app_api, server_doc())
    url = "/v0.1/servers/io.github.acme%2Fweather/versions/latest"
    first = app_anon.get(url)
    assert first.headers["cache-control"] == "no-cache"
    again = app_anon.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    publish(app_api, server_doc(version="1.1.0"))
    moved = app_anon.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert moved.status_code == 200 and moved.json()["server"]["version"] == "1.1.0"


def test_validate_reports_schema_and_semver_problems_without_storing(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    bad = server_doc(version="v1.0.0")
    del bad["description"]
    result = app_api.post("/v0.1/validate", json=bad).json()
    assert result["valid"] is False
    assert {i["path"] for i in result["issues"]} >= {"version", "description"}
    assert app_api.post("/v0.1/validate", json=server_doc()).json() == {"valid": True, "issues": []}
    assert app_anon.get("/v0.1/servers").json()["servers"] == []
