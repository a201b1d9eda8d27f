"""Bad input gets a 4xx problem+json naming the field and rule, never a 500, and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mcpreg.db.tables import JournalEntry, Release, Server
from tests.conftest import make_token, publish, server_doc
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem


def counts(engine: sa.Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (Server.__table__, Release.__table__, JournalEntry.__table__)  # type: ignore[attr-defined]
        )


def test_malformed_json_is_a_400_naming_the_body(app_api: httpx.Client, engine: sa.Engine) -> None:
    before = counts(engine)
    response = app_api.post(
        "/v0.1/publish", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "malformed_json", "body")
    assert counts(engine) == before


def test_a_body_that_is_not_json_content_type_is_a_415(app_api: httpx.Client) -> None:
    response = app_api.post("/v0.1/publish", content=b"name=x", headers={"Content-Type": "text/plain"})
    assert_problem(response, 415, "unsupported_media_type", "Content-Type")


def test_a_body_over_the_limit_is_a_413(app_api: httpx.Client, engine: sa.Engine) -> None:
    before = counts(engine)
    huge = server_doc(
        _meta={"io.modelcontextprotocol.registry/publisher-provided": {"blob": "x" * (1024 * 1024)}}
    )
    assert_problem(app_api.post("/v0.1/publish", json=huge), 413, "payload_too_large", "body")
    chunked = app_api.post(
        "/v0.1/publish",
        content=iter([b'{"a": "', b"y" * (1024 * 1024 + 10), b'"}']),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(chunked, 413, "payload_too_large", "body")
    assert counts(engine) == before


def test_an_unknown_server_is_a_404(app_anon: httpx.Client) -> None:
    assert_problem(app_anon.get("/v0.1/servers/io.github.nobody%2Fnothing/versions"), 404, "server_not_found")
    assert_problem(
        app_anon.get("/v0.1/servers/io.github.nobody/nothing/versions/1.0.0"), 404, "server_not_found"
    )


def test_an_unknown_route_is_a_problem_too(app_anon: httpx.Client) -> None:
    assert_problem(app_anon.get("/v0.1/nothing-here"), 404, "not_found")


def test_a_duplicate_version_is_refused_and_changes_nothing(app_api: httpx.Client, engine: sa.Engine) -> None:
    publish(app_api, server_doc(version="1.0.0"))
    before = counts(engine)
    assert_problem(  # the official API answers a duplicate with 400, as the official registry does
        app_api.post("/v0.1/publish", json=server_doc(version="1.0.0")), 400, "version_exists", "/version"
    )
    assert_problem(
        app_api.post("/v0.1/publish", json=server_doc(version="1.0.0+other")),
        400,
        "version_exists",
        "/version",
    )
    assert_problem(
        app_api.post("/api/servers/io.github.acme/weather/drafts", json=server_doc(version="1.0.0")),
        409,
        "version_exists",
        "/version",
    )
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("description"), "/description"),
        (lambda d: d.update(name="no-slash"), "/name"),
        (lambda d: d.update(description="x" * 101), "/description"),
        (lambda d: d["packages"][0].update(version="latest"), "/packages/0/version"),
        (lambda d: d["packages"][0].pop("transport"), "/packages/0/transport"),
        (lambda d: d.update(remotes=[{"type": "sse", "url": "ftp://x"}]), "/remotes/0/url"),
    ],
)
def test_schema_violations_are_422_naming_the_field(
    app_api: httpx.Client, engine: sa.Engine, mutate: Any, field: str
) -> None:
    doc = server_doc()
    mutate(doc)
    before = counts(engine)
    body = assert_problem(app_api.post("/v0.1/publish", json=doc), 422, "validation_failed")
    assert body["field"] == field or any(e["field"] == field for e in body.get("errors", []))
    assert counts(engine) == before


def test_a_body_that_is_not_an_object_is_a_400(app_api: httpx.Client) -> None:
    assert_problem(app_api.post("/v0.1/publish", json=[1, 2]), 400, "invalid_body", "body")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "!!!"}, "cursor"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"include_deleted": "maybe"}, "include_deleted"),
        ({"version": "v1"}, "version"),
    ],
)
def test_bad_list_parameters_are_refused_by_name(
    app_anon: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = app_anon.get("/v0.1/servers", params=params)
    assert response.status_code in (400, 422)
    assert response.json()["field"] == field


def test_writes_need_a_token_and_a_bad_token_is_a_401(app_anon: httpx.Client, engine: sa.Engine) -> None:
    assert_problem(app_anon.post("/v0.1/publish", json=server_doc()), 401, "unauthenticated", "Authorization")
    bad = app_anon.post("/v0.1/publish", json=server_doc(), headers={"Authorization": "Bearer nope"})
    assert_problem(bad, 401, "unauthenticated")
    assert counts(engine)[1] == 0


def test_a_publish_token_may_only_publish_inside_its_namespaces(
    app_server: InProcess, engine: sa.Engine
) -> None:
    token = make_token(engine, "acme-ci", ["publish"], namespaces=["io.github.acme/*"])
    with app_server.client(token) as client:
        assert client.post("/v0.1/publish", json=server_doc(name="io.github.acme/weather")).status_code == 200
        outside = client.post("/v0.1/publish", json=server_doc(name="io.github.other/weather"))
        assert_problem(outside, 403, "namespace_denied", "name")
        status = client.patch(
            "/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0/status", json={"status": "deprecated"}
        )
        assert status.status_code == 200
    assert counts(engine)[0] == 1


def test_a_read_token_cannot_publish(app_server: InProcess, engine: sa.Engine) -> None:
    token = make_token(engine, "reader", ["read"])
    with app_server.client(token) as client:
        assert_problem(client.post("/v0.1/publish", json=server_doc()), 403, "permission_denied", "scope")


def test_an_optional_body_is_size_limited_too(app_api: httpx.Client) -> None:
    huge = b'{"notes": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    rollback = "/api/environments/production/servers/io.github.acme/weather/rollback"
    response = app_api.post(rollback, content=huge, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "payload_too_large", "body")
    assert_problem(
        app_api.post(rollback, content=b"notes", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
