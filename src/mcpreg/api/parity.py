"""What ``/v0.1`` and ``/v0`` answer as the official registry does, where clients match on it.

mcpreg's services raise one ``RegistryError`` tree with its own statuses and richer
texts (what ``/api`` answers). The official API keeps each error's ``code`` and
``field`` but takes the official registry's status and ``detail``/``error`` text for
the errors its clients recognise (``modelcontextprotocol/registry``, ``internal/api``):

| code | official status and text |
|---|---|
| ``version_exists`` | 400 ``invalid version: cannot publish duplicate version`` |
| ``server_not_found``, ``version_not_found`` | 404 ``Server not found`` |
| ``name_mismatch`` | 400 ``Cannot rename server`` |
| ``version_mismatch`` | 400 ``Version in request body must match URL path parameter`` |
| ``remote_url_taken`` | 400 (the text is already the official one) |

Also here: the official ``updated_since`` parsing (RFC 3339 only, 400 otherwise) and
the official ``/validate`` issue shape.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mcpreg.domain.pointer import tokens
from mcpreg.domain.serverjson import SCHEMA_RULES
from mcpreg.domain.storable import storable_time
from mcpreg.domain.timestamps import read_rfc3339
from mcpreg.errors import BadRequest, RegistryError

Handler = Callable[[Request], Awaitable[Response]]

OFFICIAL_ERRORS: dict[str, tuple[int, str | None]] = {
    "version_exists": (400, "invalid version: cannot publish duplicate version"),
    "server_not_found": (404, "Server not found"),
    "version_not_found": (404, "Server not found"),
    "name_mismatch": (400, "Cannot rename server"),
    "version_mismatch": (400, "Version in request body must match URL path parameter"),
    "remote_url_taken": (400, None),
}

UPDATED_SINCE_FORMAT = (
    "Invalid updated_since format: expected RFC3339 timestamp (e.g., 2025-08-07T13:15:04.280Z)"
)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


def as_official(error: RegistryError) -> RegistryError:
    """``error`` with the official status and text, when the official registry has one."""
    official = OFFICIAL_ERRORS.get(error.code)
    if official is not None:
        status, text = official
        error.status = status
        if text is not None:
            error.detail = text
    return error


def official(handler: Handler) -> Handler:
    """Wrap an official-API handler so its refusals carry the official status and text."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except RegistryError as exc:
            raise as_official(exc) from None

    return wrapped


def updated_since(raw: str | None) -> datetime | None:
    """The ``updated_since`` parameter as the official registry reads it (Go's RFC 3339)."""
    if not raw:
        return None
    value = read_rfc3339(raw) if _RFC3339.fullmatch(raw) else None
    if value is None:
        raise BadRequest(UPDATED_SINCE_FORMAT, field="updated_since", code="invalid_updated_since")
    return storable_time(value, field="updated_since")  # a 4xx, not a database error


def issue(violation: dict[str, str]) -> dict[str, str]:
    """One ``{field, rule, message}`` violation as an official validation issue."""
    rule = violation["rule"]
    return {
        "type": "schema" if rule in SCHEMA_RULES else "semantic",
        "path": dotted_path(violation["field"]),
        "message": violation["message"],
        "severity": "error",
        "reference": rule,
    }


def dotted_path(pointer: str) -> str:
    """A JSON pointer as the official registry writes paths: ``packages[0].transport.url``."""
    path = ""
    for key in tokens(pointer):
        path += f"[{key}]" if key.isdigit() else (f".{key}" if path else key)
    return path


def validation_result(violations: list[dict[str, str]]) -> dict[str, Any]:
    """The official ``/validate`` answer: ``{"valid", "issues"}``."""
    return {"valid": not violations, "issues": [issue(v) for v in violations]}
