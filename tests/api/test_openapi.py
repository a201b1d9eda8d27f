"""The OpenAPI 3.1 document of ``/api``: valid, complete against the route table, honest about errors.

No database is touched: the app is built (not started) only for its route table.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient

from mcpreg.api.app import create_app
from mcpreg.api.openapi import PATH, Undescribed, api_routes, document
from mcpreg.api.schemas.catalogue import OPERATIONS
from mcpreg.errors import CATALOGUE
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    data = tmp_path_factory.mktemp("openapi")
    settings = Settings.from_env(
        {
            "MCPREG_DATABASE_URL": f"sqlite:///{data / 'unused.db'}",
            "MCPREG_DATA_DIR": str(data),
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_DEV": "1",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
        }
    )
    return create_app(settings, prepare=False, background=False)


@pytest.fixture(scope="module")
def doc(app: Starlette) -> dict[str, Any]:
    return document(app.routes)


def _template(path: str) -> str:
    """A route path as OpenAPI writes it: ``{id:int}`` is ``{id}``."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in doc["paths"].items() for m, op in item.items()]


def test_the_document_validates_as_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises OpenAPIValidationError on any fault


def test_every_component_schema_is_valid_json_schema_2020_12(doc: dict[str, Any]) -> None:
    for name, schema in doc["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)  # raises SchemaError, naming the fault
        assert schema.get("type") == "object" or "anyOf" in schema or "oneOf" in schema, name


def test_every_api_route_of_the_table_is_one_operation_of_the_document(
    app: Starlette, doc: dict[str, Any]
) -> None:
    table = {(method, _template(path)) for method, path in api_routes(app.routes)}
    described = {(method, path) for method, path, _op in _operations(doc)}
    assert table == described
    assert len(table) >= 48  # the /api of today; only ever grows
    assert all(path.startswith("/api/") for _m, path in described)


def test_a_route_without_an_operation_makes_the_document_refuse_to_build(app: Starlette) -> None:
    async def nothing(_request: object) -> Response:
        return Response()

    extra: list[BaseRoute] = [*app.routes, Route("/api/undescribed/{thing}", nothing, methods=["POST"])]
    with pytest.raises(Undescribed, match=r"POST /api/undescribed/\{thing\}"):
        document(extra)


def test_an_operation_without_its_route_makes_the_document_refuse_to_build(app: Starlette) -> None:
    gone = next(r for r in app.routes if isinstance(r, Route) and r.path == "/api/whoami")
    with pytest.raises(Undescribed, match="GET /api/whoami"):
        document([r for r in app.routes if r is not gone])


def test_every_operation_names_its_security_scheme(doc: dict[str, Any]) -> None:
    described = {(m, _template(p)): op for (m, p), op in OPERATIONS.items()}
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "a token from `mcpreg tokens create`",
    }
    for method, path, op in _operations(doc):
        security = op["security"]
        assert {"bearerAuth": []} in security, (method, path)
        required = described[(method, path)].auth
        assert (security == [{"bearerAuth": []}]) == (required == "required"), (method, path)


def test_writes_need_a_token_and_public_reads_take_one_optionally(doc: dict[str, Any]) -> None:
    ops = {(m, p): op for m, p, op in _operations(doc)}
    assert ops[("POST", "/api/servers/{namespace}/{server}/drafts")]["security"] == [{"bearerAuth": []}]
    assert ops[("GET", "/api/environments")]["security"] == [{}, {"bearerAuth": []}]


def test_every_path_parameter_is_declared_and_typed(doc: dict[str, Any]) -> None:
    for method, path, op in _operations(doc):
        declared = {p["name"]: p for p in op["parameters"] if p["in"] == "path"}
        named = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert set(declared) == named, (method, path)
        assert all(p["required"] for p in declared.values())
    deployment = doc["paths"]["/api/environments/{env}/deployments/{id}"]["get"]
    assert next(p for p in deployment["parameters"] if p["name"] == "id")["schema"]["type"] == "integer"


def test_query_parameters_carry_their_bounds(doc: dict[str, Any]) -> None:
    audit = {p["name"]: p for p in doc["paths"]["/api/audit"]["get"]["parameters"]}
    assert audit["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}
    assert not audit["limit"]["required"]
    resolve = {
        p["name"]: p for p in doc["paths"]["/api/servers/{namespace}/{server}/resolve"]["get"]["parameters"]
    }
    assert resolve["range"]["required"] and resolve["range"]["schema"]["maxLength"] == 256


def test_bodies_that_refuse_unknown_fields_say_so_and_lenient_ones_do_not(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["DeployBody"]["additionalProperties"] is False
    assert schemas["EnvironmentCreate"]["additionalProperties"] is False
    assert schemas["TokenCreate"]["additionalProperties"] is True
    # an optional key that is never null is documented without a null default
    assert schemas["EnvironmentUpdate"]["properties"]["protected"] == {"type": "boolean"}


def test_every_error_response_is_problem_json_listing_codes_of_its_own_status(doc: dict[str, Any]) -> None:
    status_of = {entry.code: entry.status for entry in CATALOGUE}
    for method, path, op in _operations(doc):
        errors = {s: r for s, r in op["responses"].items() if int(s) >= 400}
        assert {"401", "422", "503"} <= set(errors), (method, path)
        for status, response in errors.items():
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema["$ref"] == "#/components/schemas/Problem"
            codes = schema["properties"]["code"]["enum"]
            assert codes and all(status_of[c] == int(status) for c in codes), (method, path, status)


def test_routes_that_read_a_body_list_the_body_refusals(doc: dict[str, Any]) -> None:
    deploy = doc["paths"]["/api/environments/{env}/deployments"]["post"]["responses"]
    codes = deploy["400"]["content"]["application/problem+json"]["schema"]["properties"]["code"]["enum"]
    assert "malformed_json" in codes
    assert {"413", "415", "403", "404", "409"} <= set(deploy)


def test_an_error_code_outside_the_catalogue_makes_the_document_refuse_to_build(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    key = ("GET", "/api/whoami")
    monkeypatch.setitem(OPERATIONS, key, dataclasses.replace(OPERATIONS[key], codes=("no_such_code",)))
    with pytest.raises(Undescribed, match="no_such_code"):
        document(app.routes)


def test_the_document_is_served_at_api_openapi_json_and_linked_from_the_root(app: Starlette) -> None:
    with TestClient(app) as client:  # no database: neither handler reads one
        home = client.get("/", headers={"Accept": "application/json"}).json()
        assert home["links"]["openapi"] == PATH == "/api/openapi.json"
        served = client.get(PATH)
        again = client.get(PATH)
    assert served.status_code == 200 and served.headers["content-type"] == "application/json"
    assert served.json() == orjson.loads(orjson.dumps(document(app.routes)))
    assert again.content == served.content
