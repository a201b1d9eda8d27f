"""The subregistry end to end: a mirror (SQLite and PostgreSQL) of a second real mcpreg
seeded with the sample catalogue, through the admin API, with deletions, status changes
and new versions made upstream between syncs; the upstream API's own rules; and a full
sync, against a fake upstream, marking what the upstream dropped."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.api.app import create_app
from mcpreg.api.schemas import upstreams as schemas
from mcpreg.db.mirror_tables import Upstream
from mcpreg.services.mirror import sync
from mcpreg.settings import Settings
from tests.conftest import make_token, server_doc
from tests.support.live import LiveServer
from tests.support.served import free_port
from tests.support.upstream_registry import BASE, FakeUpstream, RealUpstream, every_entry

OFFICIAL = "io.modelcontextprotocol.registry/official"
MCPREG = "dev.mcpreg/release"


@pytest.fixture
def upstream(sqlite_template: Path, tmp_path: Path) -> Iterator[RealUpstream]:
    with RealUpstream(sqlite_template, tmp_path / "upstream") as served:
        yield served


def mirror_app(settings: Settings, engine: sa.Engine, **changes: Any) -> LiveServer:
    return LiveServer(create_app(dataclasses.replace(settings, mirror_sync=False, **changes), engine))


@pytest.fixture
def mirror(settings: Settings, engine: sa.Engine, admin_token: str) -> Iterator[httpx.Client]:
    with (
        mirror_app(settings, engine) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60
        ) as c,
    ):
        yield c


def shape(entries: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[Any, ...]]:
    """What must agree between an upstream and its mirror: the document, status and
    message, publishedAt and which version is latest (updatedAt is each registry's own)."""
    shaped = {}
    for entry in entries:
        meta = entry["_meta"][OFFICIAL]
        key = (entry["server"]["name"], entry["server"]["version"])
        shaped[key] = (
            entry["server"],
            meta["status"],
            meta.get("statusMessage"),
            meta["publishedAt"],
            meta["isLatest"],
        )
    return shaped


def version_path(name: str, version: str) -> str:
    return f"/v0.1/servers/{quote(name, safe='')}/versions/{version}"


def test_a_mirror_of_a_real_mcpreg_converges_through_full_and_incremental_syncs(
    upstream: RealUpstream, mirror: httpx.Client
) -> None:
    created = mirror.post("/api/upstreams", json={"name": "public", "url": upstream.url, "interval": "10m"})
    assert created.status_code == 201, created.text
    first = mirror.post("/api/upstreams/public/sync")
    assert first.status_code == 200, first.text
    upstream_entries = upstream.listing()
    assert first.json()["kind"] == "full" and first.json()["added"] == len(upstream_entries) > 40
    mirrored = every_entry(mirror, "/v0.1")
    assert shape(mirrored) == shape(upstream_entries)
    source = mirrored[0]["_meta"][MCPREG]["source"]
    assert source["upstream"] == "public" and source["url"].startswith(upstream.url + "/servers/")

    # Between syncs, upstream: a deletion, a deprecation, a new version, a whole server deleted.
    token = make_token(upstream.engine, "upstream-admin", ["admin"])
    with httpx.Client(
        base_url=upstream.url.removesuffix("/v0.1"), headers={"Authorization": f"Bearer {token}"}
    ) as up:
        by_name: dict[str, list[dict[str, Any]]] = {}
        for entry in upstream_entries:
            by_name.setdefault(entry["server"]["name"], []).append(entry["server"])
        several = next(name for name, docs in by_name.items() if len(docs) > 1)
        whole = next(name for name in by_name if name != several)
        versions = sorted(doc["version"] for doc in by_name[several])
        assert up.patch(version_path(several, versions[0]) + "/status", json={"status": "deleted"}).is_success
        deprecated = {"status": "deprecated", "statusMessage": "moved"}
        assert up.patch(version_path(several, versions[-1]) + "/status", json=deprecated).is_success
        newer = {**by_name[several][0], "version": "99.0.0"}
        assert up.post("/v0.1/publish", json=newer).status_code == 200
        gone = f"/v0.1/servers/{quote(whole, safe='')}/status"
        assert up.patch(gone, json={"status": "deleted", "force": True}).is_success

    second = mirror.post("/api/upstreams/public/sync").json()
    assert (second["kind"], second["state"], second["added"], second["refused"]) == (
        "incremental",
        "ok",
        1,
        0,
    )
    assert second["updated"] == 2 + len(by_name[whole])
    assert shape(every_entry(mirror, "/v0.1")) == shape(upstream.listing())
    schemas.SyncRun.model_validate(second)  # the answers are what /api/openapi.json documents
    schemas.UpstreamDetail.model_validate(mirror.get("/api/upstreams/public").json())
    third = mirror.post("/api/upstreams/public/sync").json()
    assert (third["added"], third["updated"]) == (0, 0)
    runs = schemas.Runs.model_validate(mirror.get("/api/upstreams/public/runs?refused=true").json()).runs
    runs_json = mirror.get("/api/upstreams/public/runs").json()["runs"]
    assert [r.kind for r in runs] == [r["kind"] for r in runs_json] == ["incremental", "incremental", "full"]

    # The source shows in the authenticated detail, our own view and where the server runs.
    for path in (version_path(several, "99.0.0"), f"/api/servers/{quote(several, safe='')}/versions/99.0.0"):
        assert mirror.get(path).json()["_meta"][MCPREG]["source"]["upstream"] == "public"
    listed = mirror.get(f"/v0.1/servers/{quote(several, safe='')}/versions").json()["servers"]
    assert {e["_meta"][MCPREG]["source"]["upstream"] for e in listed} == {"public"}
    where = mirror.get(f"/api/servers/{quote(several, safe='')}/deployments").json()
    assert (where["source"]["upstream"], where["source"]["url"]) == ("public", upstream.url)

    # A mirrored release is an ordinary release: it deploys to an environment.
    deployed = mirror.post("/api/environments/dev/deployments", json={"server": several, "version": "99.0.0"})
    assert deployed.status_code == 201, deployed.text


def test_the_upstream_api_checks_its_input_and_never_shows_the_token(
    mirror: httpx.Client, engine: sa.Engine
) -> None:
    bad = mirror.post("/api/upstreams", json={"name": "public", "url": "ftp://x"})
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (422, "invalid_upstream", "url")
    bad = mirror.post(
        "/api/upstreams", json={"name": "public", "url": "https://r.example/v0.1", "interval": "1s"}
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "interval")
    body = {
        "name": "public",
        "url": "https://r.example/v0.1",
        "token": "tok-123",
        "namespaces": ["io.github.*"],
    }
    assert mirror.post("/api/upstreams", json=body).status_code == 201
    assert mirror.post("/api/upstreams", json=body).json()["code"] == "upstream_exists"
    shown = mirror.get("/api/upstreams/public")
    assert shown.json()["token"] is True and "tok-123" not in shown.text
    assert "tok-123" not in mirror.get("/api/upstreams").text
    changed = mirror.patch("/api/upstreams/public", json={"interval": "1h", "token": ""}).json()
    assert (changed["intervalSeconds"], changed["token"]) == (3600, False)
    assert mirror.get("/api/upstreams/nope").json()["code"] == "upstream_not_found"
    assert mirror.post("/api/upstreams/nope/sync").json()["code"] == "upstream_not_found"
    reader = make_token(engine, "reader", ["read"])
    denied = mirror.get("/api/upstreams", headers={"Authorization": f"Bearer {reader}"})
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    assert mirror.delete("/api/upstreams/public").status_code == 204
    assert mirror.get("/api/upstreams").json()["upstreams"] == []


def test_a_sync_of_an_upstream_that_fails_answers_502_and_is_recorded(mirror: httpx.Client) -> None:
    mirror.post("/api/upstreams", json={"name": "gone", "url": f"http://127.0.0.1:{free_port()}/v0.1"})
    failed = mirror.post("/api/upstreams/gone/sync")
    assert (failed.status_code, failed.json()["code"]) == (502, "upstream_failed")
    run = mirror.get("/api/upstreams/gone/runs").json()["runs"][0]
    assert run["state"] == "failed" and run["error"].startswith("upstream_failed")


def test_the_background_loop_syncs_a_due_upstream_on_its_own(
    upstream: RealUpstream, settings: Settings, engine: sa.Engine, admin_token: str
) -> None:
    app = create_app(dataclasses.replace(settings, mirror_sync=True, mirror_poll=0.1), engine)
    with (
        LiveServer(app) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {admin_token}"}) as c,
    ):
        c.post("/api/upstreams", json={"name": "public", "url": upstream.url, "interval": "10m"})
        with engine.begin() as connection:  # declared ten minutes ago: due now
            connection.execute(
                sa.update(Upstream).values(created_at=datetime.now(UTC) - timedelta(minutes=10, seconds=1))
            )
        deadline = time.monotonic() + 30
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not (runs and runs[0]["state"] == "ok"):
            runs = c.get("/api/upstreams/public/runs").json()["runs"]
            time.sleep(0.05)
        assert runs and runs[0]["state"] == "ok" and runs[0]["startedBy"] == "system"
        assert shape(every_entry(c, "/v0.1")) == shape(upstream.listing())


def test_a_full_sync_through_the_api_counts_and_marks_what_the_upstream_dropped(
    app_api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeUpstream()
    for version in ("1.0.0", "1.1.0"):
        fake.add(server_doc(version=version))
    monkeypatch.setattr(sync, "upstream_client", fake.client)
    assert app_api.post("/api/upstreams", json={"name": "public", "url": BASE}).status_code == 201
    assert app_api.post("/api/upstreams/public/sync").json()["vanished"] == 0
    fake.drop("io.github.acme/weather", "1.0.0")
    answered = app_api.post("/api/upstreams/public/sync", params={"full": "true"})
    run = schemas.SyncRun.model_validate(answered.json())
    assert (run.kind, run.state, run.vanished) == ("full", "ok", 1)
    gone = app_api.get(
        "/api/servers/io.github.acme/weather/versions/1.0.0", params={"include_deleted": "true"}
    ).json()["_meta"][OFFICIAL]
    assert gone["status"] == "deleted" and gone["statusMessage"].startswith("vanished upstream: public")
    runs = app_api.get("/api/upstreams/public/runs").json()["runs"]
    assert [(r["kind"], r["vanished"]) for r in runs] == [("full", 1), ("full", 0)]
