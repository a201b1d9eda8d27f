"""One handler per error base class, each answering RFC 9457 problem+json.

A database that cannot serve is a 503 with ``Retry-After``, wherever it surfaces (a
handler, or the front door before routing). Anything else unexpected is a 500 that
closes its connection (whatever state the exchange was left in goes with it) and logs
its traceback, in which the engines' ``hide_parameters`` keeps SQL values out.
"""

from __future__ import annotations

import logging

import orjson
import sqlalchemy as sa
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mcpreg.db.engine import is_unavailable
from mcpreg.errors import (
    DatabaseUnavailable,
    HTTPError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    RateLimited,
    RegistryError,
    ServiceUnavailable,
    Unauthenticated,
)

PROBLEM = "application/problem+json"
log = logging.getLogger("mcpreg.api")


def problem_response(error: RegistryError, instance: str | None = None) -> Response:
    body = error.to_problem(instance)
    body["error"] = error.detail  # the official API's clients read "error"
    response = Response(orjson.dumps(body), status_code=error.status, media_type=PROBLEM)
    if isinstance(error, ServiceUnavailable | RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unauthenticated):
        response.headers["WWW-Authenticate"] = error.challenge
    elif error.status == 401:  # a 401 from anywhere else (RFC 9110: every 401 has a challenge)
        response.headers["WWW-Authenticate"] = 'Bearer realm="mcpreg"'
    return response


async def registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RegistryError)
    return problem_response(exc, request.url.path)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals: no route (404), a method the route does not take (405, with ``Allow``)."""
    assert isinstance(exc, HTTPException)
    detail = str(exc.detail)
    error: RegistryError
    if exc.status_code == 404:
        error = NotFound(detail)
    elif exc.status_code == 405:
        error = MethodNotAllowed(detail)
    else:
        error = HTTPError(detail, status=exc.status_code)
    response = problem_response(error, request.url.path)
    response.headers.update(exc.headers or {})
    return response


def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    error = DatabaseUnavailable("the registry's database cannot serve now; retry shortly")
    return problem_response(error, request.url.path)


def _internal(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    error = InternalError("the registry hit an unexpected error; nothing was changed")
    response = problem_response(error, request.url.path)
    response.headers["Connection"] = "close"
    return response


async def database_error(request: Request, exc: Exception) -> Response:
    """An error of the database driver or the pool in a handler: an outage is a 503."""
    return _unavailable(request, exc) if is_unavailable(exc) else _internal(request, exc)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    """Whatever no other handler caught, errors raised before routing included.

    Starlette answers these outermost and then re-raises to the server, which closes
    the connection after the response: the response says so (``Connection: close``),
    so no client sends its next request down a connection about to be dropped.
    """
    response = await database_error(request, exc)
    response.headers["Connection"] = "close"
    return response


HANDLERS = {
    RegistryError: registry_error,
    HTTPException: http_error,
    sa.exc.DBAPIError: database_error,
    sa.exc.TimeoutError: database_error,  # the pool had no connection to give in time
    Exception: unexpected_error,
}
