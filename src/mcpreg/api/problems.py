"""One handler per error base class, each answering RFC 9457 problem+json."""

from __future__ import annotations

import logging

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.errors import RegistryError

PROBLEM = "application/problem+json"
log = logging.getLogger("mcpreg.api")


def problem_response(error: RegistryError, instance: str | None = None) -> Response:
    body = error.to_problem(instance)
    body["error"] = error.detail  # the official API's clients read "error"
    return Response(orjson.dumps(body), status_code=error.status, media_type=PROBLEM)


async def registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return problem_response(exc, request.url.path)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    error = RegistryError(str(exc.detail), code=codes.get(exc.status_code, "http_error"))
    error.status = exc.status_code
    error.title = str(exc.detail)
    return problem_response(error, request.url.path)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    error = RegistryError("the registry hit an unexpected error; nothing was changed", code="internal_error")
    error.status = 500
    error.title = "Internal error"
    return problem_response(error, request.url.path)


HANDLERS = {RegistryError: registry_error, HTTPException: http_error, Exception: unexpected_error}
