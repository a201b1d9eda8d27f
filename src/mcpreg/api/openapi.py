"""The OpenAPI 3.1 document of ``/api``, built from the route table and the public models.

Every ``/api`` route of the table is one operation of the document, described by the
``Operation`` of ``api.schemas.catalogue`` with its method and path. A route without one,
or one without a route, is refused (``Undescribed``), so the document cannot fall behind
the table. ``GET /api/openapi.json`` renders it once per process.

Per operation the document gives its security (a bearer token, required or optional), its
path and query parameters, its request body, its success answer and, per error status,
the ``application/problem+json`` body with the ``code`` values that status can carry there
(each code's status is ``mcpreg.errors.CATALOGUE``'s).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

import mcpreg
from mcpreg.api.fastpath.cache import JSON
from mcpreg.api.problems import PROBLEM
from mcpreg.api.schemas.catalogue import OPERATIONS
from mcpreg.api.schemas.operations import Operation
from mcpreg.api.schemas.problems import Problem
from mcpreg.errors import CATALOGUE

PATH = "/api/openapi.json"
PREFIX = "/api/"
COMPONENTS = "#/components/schemas/{model}"
BEARER = "bearerAuth"

_STATUS = {entry.code: entry.status for entry in CATALOGUE}
_PARAMETER = re.compile(r"\{(\w+)(?::(\w+))?\}")
# What each path parameter is, with an example from the sample catalogue (``registry-data/``).
PATH_PARAMETERS: dict[str, tuple[str, str | int]] = {
    "namespace": ("the server name's part before its slash", "io.github.acme"),
    "server": ("the server name's part after its slash", "weather"),
    "version": ("a SemVer version, `latest`, or a channel name", "1.0.0"),
    "channel": ("a channel name (`latest` is the registry's own)", "next"),
    "env": ("an environment name", "dev"),
    "id": ("a deployment id", 1),
    "name": ("a token name", "ci"),
    "var": ("a variable name", "LOG_LEVEL"),
    "secret": ("a secret name", "API_KEY"),
}
_TITLES = {
    304: "Not modified (the ETag in If-None-Match still holds)",
    400: "Bad request",
    401: "No valid bearer token (`WWW-Authenticate` says why)",
    403: "The token may not do this",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflicts with the current state",
    413: "Body too large",
    415: "Body not sent as JSON",
    422: "A value breaks a rule (`field` names it)",
    500: "The registry failed; nothing was changed",
    503: "The registry cannot serve now; retry after `Retry-After` seconds",
}


class Undescribed(LookupError):
    """A route of the table with no ``Operation``, or an ``Operation`` with no route."""


class _Schemas(GenerateJsonSchema):
    """Pydantic's JSON Schema, less property titles, and no ``null`` default a type refuses."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None and not _allows_null(json_schema):
            del json_schema["default"]
        return json_schema


def _allows_null(schema: JsonSchemaValue) -> bool:
    if schema.get("type") == "null" or "$ref" in schema:
        return schema.get("type") == "null"
    return any(_allows_null(branch) for branch in schema.get("anyOf", ()))


def api_routes(routes: Iterable[BaseRoute]) -> list[tuple[str, str]]:
    """(method, path) of every ``/api`` route, in table order (HEAD, which GET implies, left out)."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Route) and route.path.startswith(PREFIX):
            found.extend((m, route.path) for m in sorted(route.methods or ()) if m != "HEAD")
    return found


def _operations(routes: Iterable[BaseRoute]) -> list[Operation]:
    keys = api_routes(routes)
    missing = [f"{m} {p}" for m, p in keys if (m, p) not in OPERATIONS]
    stale = [f"{m} {p}" for m, p in OPERATIONS if (m, p) not in set(keys)]
    if missing or stale:
        raise Undescribed(
            "routes without an Operation in api/schemas: "
            + (", ".join(missing) or "none")
            + "; Operations without a route: "
            + (", ".join(stale) or "none")
        )
    return [OPERATIONS[key] for key in keys]


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for name, convertor in _PARAMETER.findall(path):
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 0} if convertor == "int" else {"type": "string"}
        )
        description, example = PATH_PARAMETERS.get(name, (name, None))
        parameter: dict[str, Any] = {
            "name": name,
            "in": "path",
            "required": True,
            "description": description,
            "schema": schema,
        }
        if example is not None:
            parameter["example"] = example
        parameters.append(parameter)
    return parameters


def _query_parameters(operation: Operation) -> list[dict[str, Any]]:
    if operation.query is None:
        return []
    schema = operation.query.model_json_schema(by_alias=True, schema_generator=_Schemas)
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _header_parameters(operation: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": h.name,
            "in": "header",
            "required": False,
            "description": h.description,
            "schema": {"type": "string"},
        }
        for h in operation.headers
    ]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": COMPONENTS.format(model=model.__name__)}


def _problem(codes: Sequence[str]) -> dict[str, Any]:
    # ``$ref`` with a sibling (JSON Schema 2020-12): both apply, as ``allOf`` would, at a third of
    # the validators' cost.
    return {**_ref(Problem), "properties": {"code": {"enum": list(codes)}}}


def _errors(operation: Operation) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code in operation.error_codes():
        status = _STATUS.get(code)
        if status is None:
            raise Undescribed(
                f"{operation.method} {operation.path}: {code!r} is not in mcpreg.errors.CATALOGUE"
            )
        by_status.setdefault(status, []).append(code)
    responses: dict[str, Any] = {}
    for status in sorted(by_status):
        codes = by_status[status]
        response: dict[str, Any] = {
            "description": _TITLES.get(status, "Error") + ": " + ", ".join(f"`{c}`" for c in codes),
            "content": {PROBLEM: {"schema": _problem(codes)}},
        }
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        if status == 503:
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[str(status)] = response
    return responses


def _success(operation: Operation) -> dict[str, Any]:
    headers = {
        name: {"schema": {"type": "string", "const": value}}
        for name, value in operation.response_headers.items()
    }
    if operation.cacheable:
        headers |= {"ETag": {"schema": {"type": "string"}}, "Cache-Control": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {}
    for status in (operation.status, *operation.also):
        response: dict[str, Any] = {"description": operation.summary}
        if operation.answer is not None:
            response["content"] = {JSON: {"schema": _ref(operation.answer)}}
        if headers:
            response["headers"] = headers
        responses[str(status)] = response
    if operation.cacheable:
        responses["304"] = {"description": _TITLES[304]}
    return responses


def _operation(operation: Operation) -> dict[str, Any]:
    path = _PARAMETER.sub(r"{\1}", operation.path)
    words = re.sub(r"[^A-Za-z0-9]+", "_", path.removeprefix(PREFIX).replace("{", "by_")).strip("_")
    described: dict[str, Any] = {
        "operationId": f"{operation.method.lower()}_{words}",
        "tags": [operation.tag],
        "summary": operation.summary,
        "security": [{BEARER: []}] if operation.auth == "required" else [{}, {BEARER: []}],
        "parameters": [
            *_path_parameters(operation.path),
            *_query_parameters(operation),
            *_header_parameters(operation),
        ],
        "responses": {**_success(operation), **_errors(operation)},
    }
    if operation.description:
        described["description"] = operation.description
    if operation.body is not None:
        described["requestBody"] = {
            "required": operation.body_required,
            "content": {JSON: {"schema": _ref(operation.body)}},
        }
    return described


def _components(operations: Sequence[Operation]) -> dict[str, Any]:
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Problem, "serialization"): None}
    for operation in operations:
        if operation.answer is not None:
            models[(operation.answer, "serialization")] = None
        if operation.body is not None:
            models[(operation.body, "validation")] = None
    _, schemas = models_json_schema(
        list(models), by_alias=True, ref_template=COMPONENTS, schema_generator=_Schemas
    )
    return dict(sorted(schemas.get("$defs", {}).items()))


def document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the ``/api`` routes among ``routes``."""
    operations = _operations(routes)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        paths.setdefault(_PARAMETER.sub(r"{\1}", operation.path), {})[operation.method.lower()] = _operation(
            operation
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mcpreg management API",
            "version": mcpreg.__version__,
            "summary": "Releases, channels, configuration, environments, deployments, tokens and the journal",
            "description": (
                "mcpreg's own API under /api. The official MCP Registry API (/v0.1, /v0) is described by "
                "the official openapi.yaml. Every error is an RFC 9457 application/problem+json body "
                "with a stable `code`; each response lists the codes it can carry."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": _components(operations),
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `mcpreg tokens create`",
                }
            },
        },
    }


class _Rendered:
    """The document as bytes, rendered at its first request (the route table is fixed per process)."""

    body: bytes | None = None


async def openapi_json(request: Request) -> Response:
    if _Rendered.body is None:
        _Rendered.body = orjson.dumps(document(request.app.routes))
    return Response(_Rendered.body, media_type=JSON)
