"""Bad input never reaches the database as a 500: out-of-range numbers and times, NUL characters.

Each refusal is a 4xx problem+json naming the field, on SQLite and on PostgreSQL, and
nothing is written.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from mcp.server.mcpserver import MCPServer

from mcpreg.domain.storable import MAX_DEPTH
from tests.api.test_bad_input import counts
from tests.conftest import publish, server_doc
from tests.support.problems import assert_problem
from tests.support.tools import call_tool

HUGE = "99999999999999999999999"
JUST_OVER_BIGINT = str(2**63)
PROD = "/api/environments/production"


@pytest.mark.parametrize("deployment_id", [HUGE, JUST_OVER_BIGINT])
def test_a_deployment_id_beyond_any_row_id_is_a_404(app_api: httpx.Client, deployment_id: str) -> None:
    assert_problem(app_api.get(f"{PROD}/deployments/{deployment_id}"), 404, "deployment_not_found", "id")
    for decision in ("approve", "cancel"):
        response = app_api.post(f"{PROD}/deployments/{deployment_id}/{decision}")
        assert_problem(response, 404, "deployment_not_found", "id")


@pytest.mark.parametrize("cursor", ["²", "٣", HUGE, JUST_OVER_BIGINT, "-1", "0"])
@pytest.mark.parametrize(
    "path",
    ["/api/audit", f"{PROD}/history", f"{PROD}/servers/io.github.acme/weather/history"],
)
def test_an_id_cursor_that_no_page_ever_gave_is_refused_by_name(
    app_api: httpx.Client, path: str, cursor: str
) -> None:
    publish(app_api, server_doc())
    assert_problem(app_api.get(path, params={"cursor": cursor}), 422, "invalid_cursor", "cursor")


def test_a_real_id_cursor_still_pages(app_api: httpx.Client) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        publish(app_api, server_doc(version=version))
    first = app_api.get("/api/audit", params={"limit": 2, "action": "release."}).json()
    cursor = first["metadata"]["nextCursor"]
    rest = app_api.get("/api/audit", params={"limit": 2, "action": "release.", "cursor": cursor}).json()
    assert [e["version"] for e in first["entries"] + rest["entries"]] == ["1.2.0", "1.1.0", "1.0.0"]


@pytest.mark.parametrize("value", ["²", "٣", "1_0", " 5"])
def test_an_integer_parameter_takes_ascii_digits_only(app_anon: httpx.Client, value: str) -> None:
    assert_problem(app_anon.get("/v0.1/servers", params={"limit": value}), 422, "validation_failed", "limit")


# --------------------------------------------------------------------------------------
# NUL characters: PostgreSQL cannot store them (500 before) and SQLite stored them.
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (lambda d: d.update(description="Weather\u0000 forecasts"), "/description"),
        (lambda d: d["packages"][0].update(identifier="@acme/\u0000"), "/packages/0/identifier"),
        (lambda d: d.update(title="\u0000"), "/title"),
        (
            lambda d: d.update(
                _meta={"io.modelcontextprotocol.registry/publisher-provided": {"a/\u0000~": 1}}
            ),
            "/_meta/io.modelcontextprotocol.registry~1publisher-provided/a~1\u0000~0",
        ),
    ],
)
def test_a_nul_character_in_a_body_is_refused_by_its_json_pointer(
    app_api: httpx.Client, engine: sa.Engine, mutate: Any, pointer: str
) -> None:
    doc = server_doc()
    mutate(doc)
    before = counts(engine)
    for path in ("/v0.1/publish", "/api/servers/io.github.acme/weather/drafts"):
        assert_problem(app_api.post(path, json=doc), 422, "nul_character", pointer)
    assert counts(engine) == before


def test_a_nul_character_in_a_deploy_body_is_refused(app_api: httpx.Client) -> None:
    publish(app_api, server_doc())
    body = {"server": "io.github.acme/weather", "version": "1.0.0", "notes": "ship\u0000it"}
    assert_problem(app_api.post(f"{PROD}/deployments", json=body), 422, "nul_character", "/notes")
    assert app_api.get(f"{PROD}/deployments").json()["deployments"] == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v0.1/servers", {"search": "wea\u0000ther"}, "search"),
        ("/v0.1/servers", {"version\u0000": "1"}, "version\u0000"),
        ("/api/audit", {"server": "io.github.acme/\u0000"}, "server"),
        (f"{PROD}/deployments", {"server": "\u0000"}, "server"),
    ],
)
def test_a_nul_character_in_a_query_parameter_is_refused_by_name(
    app_api: httpx.Client, path: str, params: dict[str, str], field: str
) -> None:
    publish(app_api, server_doc())
    assert_problem(app_api.get(path, params=params), 422, "nul_character", field)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v0.1/servers/io.github.ac%00me/weather/versions", "namespace"),
        ("/v0.1/servers/io.github.acme/wea%00ther/versions/latest", "server"),
        ("/v0/servers/io.github.acme%2Fwea%00ther/versions/1.0.0", "server"),
        ("/api/servers/io.github.acme/weather/versions/1.0.0%00", "version"),
        ("/api/environments/prod%00/servers", "env"),
        ("/nowhere/%00", "path"),
    ],
)
def test_a_nul_character_in_the_path_is_refused_by_its_parameter(
    app_api: httpx.Client, app_anon: httpx.Client, path: str, field: str
) -> None:
    publish(app_api, server_doc())
    for client in (app_api, app_anon):
        assert_problem(client.get(path), 422, "nul_character", field)


def test_a_nul_character_in_a_write_path_changes_nothing(app_api: httpx.Client, engine: sa.Engine) -> None:
    publish(app_api, server_doc())
    before = counts(engine)
    response = app_api.put("/api/servers/io.github.acme/weather/channels/be%00ta", json={"version": "1.0.0"})
    assert_problem(response, 422, "nul_character", "channel")
    assert counts(engine) == before


def test_a_cursor_that_decodes_to_a_nul_character_is_refused(app_anon: httpx.Client) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(b'["io.github.a\\u0000/b", "k"]').decode().rstrip("=")
    assert_problem(app_anon.get("/v0.1/servers", params={"cursor": cursor}), 422, "invalid_cursor", "cursor")


# --------------------------------------------------------------------------------------
# Times that parse but that no database column can hold.
# --------------------------------------------------------------------------------------

UNSTORABLE = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00"]


@pytest.mark.parametrize("value", UNSTORABLE)
def test_a_query_time_outside_the_storable_range_is_refused_by_name(
    app_api: httpx.Client, value: str
) -> None:
    assert_problem(app_api.get("/api/audit", params={"since": value}), 422, "validation_failed", "since")
    response = app_api.get("/v0.1/servers", params={"updated_since": value})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == "updated_since"


@pytest.mark.parametrize("value", UNSTORABLE)
@pytest.mark.parametrize("key", ["scheduled_at", "scheduledAt"])
def test_a_schedule_outside_the_storable_range_is_refused_by_name(
    app_api: httpx.Client, value: str, key: str
) -> None:
    publish(app_api, server_doc())
    body = {"server": "io.github.acme/weather", "version": "1.0.0", key: value}
    assert_problem(app_api.post(f"{PROD}/deployments", json=body), 422, "validation_failed", key)


def test_the_edges_of_the_storable_range_are_accepted(app_api: httpx.Client) -> None:
    for value in ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00-01:00", "9999-12-31T23:59:59+05:00"):
        assert app_api.get("/api/audit", params={"since": value}).status_code == 200


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_server", {"name": "io.github.acme/wea\u0000ther"}, "name"),
        ("get_server", {"name": "io.github.acme/weather", "version": "1.0.0\u0000"}, "version"),
        ("list_versions", {"name": "\u0000"}, "name"),
        ("search_servers", {"query": "wea\u0000ther"}, "query"),
    ],
)
def test_a_nul_character_in_an_mcp_tool_argument_is_a_tool_error_naming_it(
    mcp_server: MCPServer, app_api: httpx.Client, tool: str, arguments: dict[str, str], field: str
) -> None:
    publish(app_api, server_doc())
    ok, message = call_tool(mcp_server, tool, arguments)
    assert not ok and f"nul_character: {field} " in message


def _nested_meta(levels: int) -> str:
    """A publisher ``_meta`` block, as JSON, whose innermost object is at ``levels``.

    Written by hand: no JSON encoder at hand writes 1000 levels.
    """
    inner = '{"a": ' * (levels - 3) + '{"leaf": true}' + "}" * (levels - 3)
    return '{"io.modelcontextprotocol.registry/publisher-provided": ' + inner + "}"


def _with_meta(meta: str) -> bytes:
    """``server_doc()`` with this ``_meta`` (the document, ``_meta`` and the block are 3 levels)."""
    return orjson.dumps(server_doc())[:-1] + b', "_meta": ' + meta.encode() + b"}"


JSON_TYPE = {"Content-Type": "application/json"}


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 300, 1000])
def test_a_body_nested_deeper_than_the_limit_is_refused_where_it_passes_it(
    app_api: httpx.Client, engine: sa.Engine, levels: int
) -> None:
    body = _with_meta(_nested_meta(levels))
    before = counts(engine)
    # the first object at level MAX_DEPTH + 1 (the publisher block is level 3)
    pointer = "/_meta/io.modelcontextprotocol.registry~1publisher-provided" + "/a" * (MAX_DEPTH - 2)
    for path in ("/v0.1/publish", "/api/servers/io.github.acme/weather/drafts", "/v0.1/validate"):
        assert_problem(app_api.post(path, content=body, headers=JSON_TYPE), 422, "too_deep", pointer)
    assert counts(engine) == before


def test_a_body_nested_exactly_to_the_limit_is_published_and_served(app_api: httpx.Client) -> None:
    meta = _nested_meta(MAX_DEPTH)
    assert app_api.post("/v0.1/publish", content=_with_meta(meta), headers=JSON_TYPE).status_code == 200
    served = app_api.get("/v0.1/servers/io.github.acme%2Fweather/versions/1.0.0")
    assert served.status_code == 200
    assert served.json()["server"]["_meta"] == orjson.loads(meta)
