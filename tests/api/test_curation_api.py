"""The curation admin API and the ordinary endpoints on mirrored servers, in process, on
SQLite and PostgreSQL: rules, local namespaces and pins through ``/api/curation``; a
status PATCH on a mirrored release kept by the next sync; a publish into a mirrored
namespace refused as a problem; bad input refused by field and code."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from tests.conftest import make_token, server_doc
from tests.support.curation import declare, run_sync
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.upstream_registry import FakeUpstream

TOOL = "io.github.acme/tool"
PATH = "/v0.1/servers/io.github.acme%2Ftool"


def mirror(engine: sa.Engine) -> FakeUpstream:
    fake = FakeUpstream()
    for version in ("1.0.0", "1.1.0"):
        fake.add(server_doc(TOOL, version))
    fake.add(server_doc("io.github.acme/other", "1.0.0"))
    declare(engine, namespaces=["io.github.*"])
    run_sync(engine, fake)
    return fake


def test_an_admin_pins_denies_and_marks_local_through_the_api_and_the_listing_shows_it(
    engine: sa.Engine, app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    mirror(engine)
    assert app_anon.get(f"{PATH}/versions/latest").json()["server"]["version"] == "1.1.0"
    pinned = app_api.put("/api/servers/io.github.acme/tool/pin", json={"version": "1.0.0"})
    assert pinned.status_code == 200, pinned.text
    assert app_anon.get(f"{PATH}/versions/latest").json()["server"]["version"] == "1.0.0"
    denied = app_api.post("/api/curation/rules", json={"pattern": "io.github.acme/other", "effect": "deny"})
    assert denied.json()["withheld"] == ["io.github.acme/other"]
    listed = app_anon.get("/v0.1/servers").json()["servers"]
    assert [(s["server"]["name"], s["server"]["version"]) for s in listed] == [
        (TOOL, "1.1.0"),
        (TOOL, "1.0.0"),
    ]
    assert app_api.put("/api/curation/local/io.github.beta").status_code == 200
    shown = app_api.get("/api/curation").json()
    assert [r["pattern"] for r in shown["rules"]] == ["io.github.acme/other"]
    assert [n["namespace"] for n in shown["localNamespaces"]] == ["io.github.beta"]
    assert [(p["server"], p["version"]) for p in shown["pins"]] == [(TOOL, "1.0.0")]
    assert shown["owners"] == [{"upstream": "public", "namespaces": ["io.github.*"], "exclude": []}]
    assert app_api.delete("/api/servers/io.github.acme/tool/pin").json()["latest"] == "1.1.0"
    removed = app_api.delete("/api/curation/rules", params={"pattern": "io.github.acme/other"})
    assert removed.json()["restored"] == ["io.github.acme/other"]
    assert app_api.delete("/api/curation/local/io.github.beta").status_code == 200
    audit = app_api.get("/api/audit", params={"action": "curation."}).json()["entries"]
    assert [e["action"] for e in reversed(audit)] == [
        "curation.pin",
        "curation.withhold",
        "curation.deny",
        "curation.local",
        "curation.unpin",
        "curation.restore",
        "curation.rule.remove",
        "curation.local.remove",
    ]


def test_a_status_patch_on_a_mirrored_release_is_a_local_curation_the_next_sync_keeps(
    engine: sa.Engine, app_api: httpx.Client
) -> None:
    fake = mirror(engine)
    patched = app_api.patch(
        f"{PATH}/versions/1.1.0/status", json={"status": "deprecated", "statusMessage": "use 1.0.0"}
    )
    assert patched.status_code == 200, patched.text
    fake.set_status(TOOL, "1.1.0", "deprecated", "upstream's own reason")
    assert run_sync(engine, fake).updated == 1
    shown = app_api.get(f"{PATH}/versions/1.1.0").json()["_meta"]["io.modelcontextprotocol.registry/official"]
    assert (shown["status"], shown.get("statusMessage")) == ("deprecated", "use 1.0.0")
    kept = app_api.get("/api/curation").json()["localStatuses"]
    assert [(s["version"], s["status"], s["upstreamStatus"]) for s in kept] == [
        ("1.1.0", "deprecated", "deprecated")
    ]


def test_a_publish_into_a_mirrored_namespace_is_refused_until_it_is_marked_local(
    engine: sa.Engine, app_api: httpx.Client
) -> None:
    mirror(engine)
    doc = server_doc("io.github.beta/tool", "1.0.0")
    refused = app_api.post("/api/servers/io.github.beta/tool/drafts", json=doc)
    body = assert_problem(refused, 409, "namespace_mirrored", "/name")
    assert body["upstream"] == "public"
    assert app_api.post("/v0.1/publish", json=doc).json()["code"] == "namespace_mirrored"
    app_api.put("/api/curation/local/io.github.beta")
    assert app_api.post("/v0.1/publish", json=doc).status_code == 200
    clash = app_api.post("/v0.1/publish", json=server_doc(TOOL, "9.0.0"))
    assert clash.json()["code"] == "name_clash"


def test_bad_curation_input_is_a_problem_naming_the_field_and_changes_nothing(
    engine: sa.Engine, app_server: InProcess, app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    mirror(engine)
    cases = [
        (
            app_api.post("/api/curation/rules", json={"pattern": "", "effect": "deny"}),
            422,
            "invalid_curation",
            "pattern",
        ),
        (
            app_api.post("/api/curation/rules", json={"pattern": "a*", "effect": "no"}),
            422,
            "invalid_curation",
            "effect",
        ),
        (
            app_api.post("/api/curation/rules", json={"pattern": "a*", "effect": "deny", "why": 1}),
            422,
            "unknown_field",
            "why",
        ),
        (
            app_api.post("/api/curation/rules", json={"pattern": "a*", "effect": "deny", "upstream": "x"}),
            404,
            "upstream_not_found",
            "upstream",
        ),
        (
            app_api.delete("/api/curation/rules", params={"pattern": "a*"}),
            404,
            "curation_not_found",
            "pattern",
        ),
        (app_api.put("/api/servers/io.github.acme/tool/pin", json={}), 422, "validation_failed", "version"),
        (
            app_api.put("/api/servers/io.github.acme/tool/pin", json={"version": "7.0.0"}),
            404,
            "version_not_found",
            "version",
        ),
        (app_api.delete("/api/servers/io.github.acme/tool/pin"), 404, "curation_not_found", "server"),
        (app_api.put("/api/curation/local/io.github.*x["), 422, "invalid_curation", "namespace"),
        (app_anon.get("/api/curation"), 401, "unauthenticated", None),
    ]
    for response, status, code, field in cases:
        assert_problem(response, status, code, field)
    publisher = make_token(engine, "pub", ["publish"])
    with app_server.client(publisher) as client:
        assert_problem(
            client.post("/api/curation/rules", json={"pattern": "a*", "effect": "deny"}),
            403,
            "permission_denied",
        )
    assert app_api.get("/api/curation").json()["rules"] == []
