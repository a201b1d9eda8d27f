"""Drafts, immutability, duplicates, statuses, latest, channels, ranges and diffs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import make_token, publish, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.spec import SpecSchemas

NAME = "io.github.acme/weather"
API = "/api/servers/io.github.acme/weather"
V01 = "/v0.1/servers/io.github.acme%2Fweather"
OFFICIAL = "io.modelcontextprotocol.registry/official"


def latest(client: httpx.Client) -> str:
    return client.get(f"{V01}/versions/latest").json()["server"]["version"]  # type: ignore[no-any-return]


def draft(app_api: httpx.Client, version: str, **extra: Any) -> httpx.Response:
    return app_api.post(f"{API}/drafts", json=server_doc(version=version, **extra))


def test_drafts_are_invisible_to_discovery_until_published(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    created = draft(app_api, "1.0.0")
    assert created.status_code == 201
    assert created.json()["_meta"]["dev.mcpreg/release"]["state"] == "draft"
    assert app_anon.get("/v0.1/servers").json()["servers"] == []
    assert app_anon.get(f"{V01}/versions/1.0.0").status_code == 404
    assert app_anon.get(f"{API}/versions/1.0.0").status_code == 404
    assert app_api.get(f"{API}/versions/1.0.0").status_code == 200
    published = app_api.post(f"{API}/versions/1.0.0/publish")
    assert published.status_code == 200
    assert app_anon.get(f"{V01}/versions/1.0.0").json()["_meta"][OFFICIAL]["status"] == "active"


def test_only_drafts_can_be_edited_and_published_releases_are_immutable(app_api: httpx.Client) -> None:
    draft(app_api, "1.0.0")
    edited = app_api.put(
        f"{API}/versions/1.0.0", json=server_doc(version="1.0.0", description="Better forecasts")
    )
    assert edited.status_code == 200
    assert edited.json()["server"]["description"] == "Better forecasts"
    app_api.post(f"{API}/versions/1.0.0/publish")
    refused = app_api.put(f"{API}/versions/1.0.0", json=server_doc(version="1.0.0", description="Sneaky"))
    assert_problem(refused, 409, "immutable_release", "version")
    official_put = app_api.put(
        f"{V01}/versions/1.0.0", json=server_doc(version="1.0.0", description="Sneaky")
    )
    assert_problem(official_put, 409, "immutable_release")
    assert app_api.get(f"{API}/versions/1.0.0").json()["server"]["description"] == "Better forecasts"


def test_an_edit_cannot_change_the_drafts_name_or_version(app_api: httpx.Client) -> None:
    draft(app_api, "1.0.0")
    assert_problem(
        app_api.put(f"{API}/versions/1.0.0", json=server_doc(version="1.0.1")), 422, "version_mismatch"
    )
    wrong_name = server_doc(name="io.github.acme/other", version="1.0.0")
    assert_problem(app_api.put(f"{API}/versions/1.0.0", json=wrong_name), 422, "name_mismatch")


def test_publishing_something_that_is_not_a_draft_is_refused(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    assert_problem(app_api.post(f"{API}/versions/1.0.0/publish"), 409, "not_a_draft")


def test_duplicate_copies_a_release_into_a_new_draft(app_api: httpx.Client, app_anon: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0", title="Weather"))
    copy = app_api.post(f"{API}/versions/1.0.0/duplicate", json={"version": "1.1.0-beta.1"})
    assert copy.status_code == 201
    body = copy.json()
    assert body["server"]["version"] == "1.1.0-beta.1" and body["server"]["title"] == "Weather"
    assert body["_meta"]["dev.mcpreg/release"]["state"] == "draft"
    assert_problem(
        app_api.post(f"{API}/versions/1.0.0/duplicate", json={"version": "1.0.0"}), 409, "version_exists"
    )
    assert_problem(
        app_api.post(f"{API}/versions/1.0.0/duplicate", json={"version": "v2"}), 422, "invalid_version"
    )
    assert app_anon.get(f"{V01}/versions/1.1.0-beta.1").status_code == 404


def test_a_version_number_is_never_reused_even_after_deletion(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    assert app_api.delete(f"{V01}/versions/1.0.0").json()["_meta"][OFFICIAL]["status"] == "deleted"
    assert_problem(app_api.post("/v0.1/publish", json=server_doc(version="1.0.0")), 400, "version_exists")
    assert_problem(
        app_api.post(f"{API}/drafts", json=server_doc(version="1.0.0+rebuild")), 409, "version_exists"
    )


def test_prereleases_never_move_latest_and_status_changes_do(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    publish(app_api, server_doc(version="2.0.0-rc.1"))
    assert latest(app_anon) == "2.0.0-rc.1", "with no stable release the highest pre-release is latest"
    publish(app_api, server_doc(version="1.0.0"))
    assert latest(app_anon) == "1.0.0"
    publish(app_api, server_doc(version="2.0.0-rc.2"))
    assert latest(app_anon) == "1.0.0"
    publish(app_api, server_doc(version="1.1.0"))
    assert latest(app_anon) == "1.1.0"
    deprecate = app_api.patch(
        f"{V01}/versions/1.1.0/status", json={"status": "deprecated", "statusMessage": "bug"}
    )
    assert deprecate.json()["_meta"][OFFICIAL]["statusMessage"] == "bug"
    assert latest(app_anon) == "1.0.0"
    app_api.patch(f"{V01}/versions/1.1.0/status", json={"status": "active"})
    assert latest(app_anon) == "1.1.0"
    versions = app_anon.get(f"{V01}/versions").json()["servers"]
    assert [v["_meta"][OFFICIAL]["isLatest"] for v in versions] == [False, False, True, False]


def test_status_changes_refuse_no_op_and_unknown_status(app_api: httpx.Client) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    assert_problem(
        app_api.patch(f"{V01}/versions/1.0.0/status", json={"status": "active"}), 400, "no_changes"
    )
    assert_problem(
        app_api.patch(f"{V01}/versions/1.0.0/status", json={"status": "gone"}), 422, "invalid_status"
    )
    long_message = {"status": "deprecated", "statusMessage": "x" * 501}
    assert_problem(app_api.patch(f"{V01}/versions/1.0.0/status", json=long_message), 422, "validation_failed")


def test_all_versions_status_changes_every_version_in_one_go(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    for version in ("1.0.0", "1.1.0"):
        publish(app_api, server_doc(version=version))
    result = app_api.patch(f"{V01}/status", json={"status": "deprecated", "statusMessage": "moved"})
    assert result.json()["updatedCount"] == 2
    assert app_anon.get(f"{V01}/versions/latest").status_code == 404
    restored = app_api.patch(f"{V01}/status", json={"status": "active"})
    assert restored.json()["updatedCount"] == 2
    assert latest(app_anon) == "1.1.0"


def test_channels_point_where_the_publisher_says_and_resolve_through_the_official_api(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    for version in ("1.0.0", "2.0.0-beta.1"):
        publish(app_api, server_doc(version=version))
    assert app_api.put(f"{API}/channels/next", json={"version": "2.0.0-beta.1"}).status_code == 200
    assert app_anon.get(f"{V01}/versions/next").json()["server"]["version"] == "2.0.0-beta.1"
    assert app_anon.get(f"{API}/channels/latest").json()["version"] == "1.0.0"
    listed = app_anon.get(f"{API}/channels").json()["channels"]
    assert [(c["channel"], c["version"]) for c in listed] == [("latest", "1.0.0"), ("next", "2.0.0-beta.1")]
    app_api.put(f"{API}/channels/next", json={"version": "1.0.0"})
    assert app_anon.get(f"{V01}/versions/next").json()["server"]["version"] == "1.0.0"
    assert app_api.delete(f"{API}/channels/next").status_code == 204
    assert_problem(app_anon.get(f"{V01}/versions/next"), 404, "version_not_found")


@pytest.mark.parametrize("channel", ["1.2.3", "x", "v2", "latest", "UPPER"])
def test_channel_names_that_are_versions_ranges_or_reserved_are_refused(
    app_api: httpx.Client, channel: str
) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    response = app_api.put(f"{API}/channels/{channel}", json={"version": "1.0.0"})
    assert response.status_code == 422
    assert response.json()["code"] in ("invalid_channel", "reserved_channel")


def test_a_channel_cannot_point_at_a_draft_or_deleted_release(app_api: httpx.Client) -> None:
    draft(app_api, "1.0.0")
    assert_problem(
        app_api.put(f"{API}/channels/beta", json={"version": "1.0.0"}), 409, "release_not_published"
    )
    assert_problem(app_api.put(f"{API}/channels/beta", json={"version": "9.9.9"}), 404, "version_not_found")


def test_range_resolution_returns_the_highest_active_match(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    for version in ("1.2.0", "1.4.0", "1.5.0-rc.1", "2.0.0"):
        publish(app_api, server_doc(version=version))
    app_api.patch(f"{V01}/versions/1.4.0/status", json={"status": "deprecated"})
    assert app_anon.get(f"{API}/resolve", params={"range": "^1.2.0"}).json()["version"] == "1.2.0"
    with_pre = app_anon.get(f"{API}/resolve", params={"range": "^1.2.0", "prerelease": "true"}).json()
    assert with_pre["version"] == "1.5.0-rc.1"
    assert_problem(
        app_anon.get(f"{API}/resolve", params={"range": ">=3"}), 404, "no_matching_version", "range"
    )
    assert_problem(app_anon.get(f"{API}/resolve", params={"range": "banana"}), 422, "invalid_range", "range")


def test_diff_matches_packages_by_identity_and_remotes_by_url(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    npm = {"registryType": "npm", "identifier": "@acme/w", "version": "1.0.0", "transport": {"type": "stdio"}}
    pypi = {
        "registryType": "pypi",
        "identifier": "acme-w",
        "version": "1.0.0",
        "transport": {"type": "stdio"},
    }
    remote = {"type": "streamable-http", "url": "https://w.acme.dev/mcp"}
    publish(app_api, server_doc(version="1.0.0", packages=[npm, pypi], remotes=[remote]))
    publish(
        app_api,
        server_doc(
            version="1.1.0",
            packages=[{**pypi, "version": "1.1.0"}, npm],
            remotes=[remote, {"type": "sse", "url": "https://w.acme.dev/sse"}],
        ),
    )
    changes = app_anon.get(f"{API}/diff", params={"from": "1.0.0", "to": "1.1.0"}).json()["changes"]
    assert {"op": "changed", "path": "/version", "old": "1.0.0", "new": "1.1.0"} in changes
    assert {"op": "changed", "path": "/packages/0/version", "old": "1.0.0", "new": "1.1.0"} in changes
    assert {
        "op": "added",
        "path": "/remotes/1",
        "old": None,
        "new": {"type": "sse", "url": "https://w.acme.dev/sse"},
    } in changes
    assert len(changes) == 3
    assert_problem(app_anon.get(f"{API}/diff", params={"from": "1.0.0"}), 422, "validation_failed", "to")


def test_every_change_is_journaled_with_who_what_and_what_it_replaced(
    app_api: httpx.Client, app_server: InProcess, engine: Any
) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    publish(app_api, server_doc(version="1.1.0"))
    app_api.put(f"{API}/channels/stable", json={"version": "1.0.0"})
    app_api.patch(
        f"{V01}/versions/1.1.0/status", json={"status": "deprecated", "statusMessage": "regression"}
    )
    entries = app_api.get("/api/audit", params={"server": NAME}).json()["entries"]
    actions = [e["action"] for e in entries]
    assert actions == ["release.status.deprecated", "channel.set", "release.publish", "release.publish"]
    deprecation = entries[0]
    assert deprecation["actor"] == "admin-test" and deprecation["reason"] == "regression"
    assert deprecation["before"]["latest"] == "1.1.0" and deprecation["after"]["latest"] == "1.0.0"
    assert entries[2]["before"] == {"latest": "1.0.0"}
    reader = make_token(engine, "reader", ["read"])
    with app_server.client(reader) as client:
        denied = client.get("/api/audit")
    assert_problem(denied, 403, "permission_denied")


def test_token_creation_is_journaled_and_the_token_is_shown_once(app_api: httpx.Client) -> None:
    created = app_api.post(
        "/api/tokens", json={"name": "ci", "scopes": ["publish"], "namespaces": ["io.github.acme/*"]}
    )
    assert created.status_code == 201 and created.json()["token"].startswith("mcpreg_")
    listed = app_api.get("/api/tokens").json()["tokens"]
    assert all("token" not in t for t in listed)
    entry = app_api.get("/api/audit", params={"action": "token."}).json()["entries"][0]
    assert entry["action"] == "token.create" and entry["after"]["name"] == "ci"
    assert created.json()["token"] not in str(entry)
    assert_problem(
        app_api.post("/api/tokens", json={"name": "ci", "scopes": ["publish"]}), 409, "token_exists"
    )
    assert_problem(
        app_api.post("/api/tokens", json={"name": "x", "scopes": ["root"]}), 422, "validation_failed", "scope"
    )


RUNNING = "dev.mcpreg/running"


def deploy(app_api: httpx.Client, env: str, version: str, **body: Any) -> None:
    answer = app_api.post(
        f"/api/environments/{env}/deployments", json={"server": NAME, "version": version, **body}
    )
    assert answer.status_code == 201, answer.text


def running_everywhere(app_api: httpx.Client) -> None:
    """1.0.0 stable in staging and production, 1.1.0 a 10% canary in staging."""
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(app_api, server_doc(version=version))
    deploy(app_api, "staging", "1.0.0")
    deploy(app_api, "production", "1.0.0")
    deploy(app_api, "staging", "1.1.0", strategy="canary", weight=10)


def status_of(client: httpx.Client, version: str) -> str:
    return client.get(f"{V01}/versions/{version}", params={"include_deleted": "true"}).json()["_meta"][
        OFFICIAL
    ]["status"]


def test_deleting_a_release_that_runs_somewhere_is_refused_naming_the_environments(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    running_everywhere(app_api)
    for refused in (
        app_api.delete(f"{V01}/versions/1.0.0"),
        app_api.patch(f"{V01}/versions/1.0.0/status", json={"status": "deleted"}),
        app_api.delete("/v0/servers/io.github.acme%2Fweather/versions/1.0.0"),
    ):
        body = assert_problem(refused, 409, "release_in_use", "status")
        assert body["environments"] == ["production", "staging"]
        assert "staging (stable)" in body["detail"] and "production (stable)" in body["detail"]
    canary = assert_problem(app_api.delete(f"{V01}/versions/1.1.0"), 409, "release_in_use")
    assert canary["environments"] == ["staging"] and "staging (canary)" in canary["detail"]
    every = assert_problem(app_api.patch(f"{V01}/status", json={"status": "deleted"}), 409, "release_in_use")
    assert every["environments"] == ["production", "staging"]
    assert [status_of(app_anon, v) for v in ("1.0.0", "1.1.0", "1.2.0")] == ["active"] * 3
    assert app_api.delete(f"{V01}/versions/1.2.0").status_code == 200, (
        "a release that runs nowhere is deleted"
    )


def test_a_forced_delete_of_a_running_release_proceeds_and_is_journaled_with_where_it_ran(
    app_api: httpx.Client, app_anon: httpx.Client, spec: SpecSchemas
) -> None:
    running_everywhere(app_api)
    forced = app_api.delete(f"{V01}/versions/1.0.0", params={"force": "true"})
    assert forced.status_code == 200, forced.text
    assert spec.errors("ServerResponse", forced.json()) == []
    assert forced.json()["_meta"][RUNNING] == [
        {"environment": "staging", "track": "stable"},
        {"environment": "production", "track": "stable"},
    ]
    patched = app_api.patch(f"{V01}/versions/1.1.0/status", json={"status": "deleted", "force": True})
    assert patched.status_code == 200 and status_of(app_anon, "1.1.0") == "deleted"
    entry = app_api.get("/api/audit", params={"server": NAME, "action": "release.status."}).json()["entries"][
        1
    ]
    assert entry["version"] == "1.0.0" and entry["after"]["forced"] is True
    assert entry["after"]["runningIn"] == forced.json()["_meta"][RUNNING]
    assert_problem(
        app_api.patch(f"{V01}/versions/1.2.0/status", json={"status": "deleted", "force": "yes"}),
        422,
        "validation_failed",
        "force",
    )


def test_deprecating_a_running_release_is_allowed_and_says_where_it_runs(
    app_api: httpx.Client, spec: SpecSchemas
) -> None:
    running_everywhere(app_api)
    deprecated = app_api.patch(
        f"{V01}/versions/1.0.0/status", json={"status": "deprecated", "statusMessage": "old"}
    )
    assert deprecated.status_code == 200, deprecated.text
    assert spec.errors("ServerResponse", deprecated.json()) == []
    assert deprecated.json()["_meta"][RUNNING] == [
        {"environment": "staging", "track": "stable"},
        {"environment": "production", "track": "stable"},
    ]
    nowhere = app_api.patch(f"{V01}/versions/1.2.0/status", json={"status": "deprecated"})
    assert RUNNING not in nowhere.json()["_meta"]


def test_a_forced_delete_of_every_version_records_where_each_ran(
    app_api: httpx.Client, app_anon: httpx.Client
) -> None:
    running_everywhere(app_api)
    forced = app_api.patch(f"{V01}/status", json={"status": "deleted", "force": True})
    assert forced.status_code == 200 and forced.json()["updatedCount"] == 3
    assert [status_of(app_anon, v) for v in ("1.0.0", "1.1.0", "1.2.0")] == ["deleted"] * 3
    entry = app_api.get("/api/audit", params={"server": NAME, "action": "server.status."}).json()["entries"][
        0
    ]
    assert entry["after"]["forced"] is True
    assert entry["after"]["runningIn"] == {
        "1.0.0": [
            {"environment": "staging", "track": "stable"},
            {"environment": "production", "track": "stable"},
        ],
        "1.1.0": [{"environment": "staging", "track": "canary"}],
    }
