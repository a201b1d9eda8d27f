"""Typed errors of the Python client, one per kind of refusal the registry answers.

The registry answers every refusal with an RFC 9457 problem+json body carrying a stable
``code``, a client-safe ``detail`` and often the offending ``field``; each error keeps
all three plus the HTTP ``status``. Branch on the class or on ``code``, never on text.
"""

from __future__ import annotations

from typing import Any

import httpx


class RegistryClientError(Exception):
    """Base of every error the client raises about a request."""

    def __init__(
        self,
        detail: str,
        *,
        code: str = "registry_error",
        field: str | None = None,
        status: int | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.field = field
        self.status = status
        self.body: dict[str, Any] = body or {}

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Every violation the registry listed (validation failures), possibly empty."""
        listed = self.body.get("errors")
        return [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, field={self.field!r})"

    def __str__(self) -> str:
        field = f" (field: {self.field})" if self.field else ""
        return f"{self.code}: {self.detail}{field}"


class NotFound(RegistryClientError):
    """The server, version, channel, environment or record does not exist (404)."""


class NoDeployment(NotFound):
    """Nothing of this server is deployed in the environment asked for."""


class PermissionDenied(RegistryClientError):
    """The token lacks the scope, namespace or environment for this request (403)."""


class Unauthenticated(PermissionDenied):
    """No token, or one the registry does not know (401)."""


class Conflict(RegistryClientError):
    """The change contradicts the current state: reused version, immutable release (409)."""


class ValidationFailed(RegistryClientError):
    """The request breaks a rule: schema, semver, parameter, malformed body (400, 413, 415, 422)."""


class ServerError(RegistryClientError):
    """The registry failed on its side (5xx)."""


class Unreachable(RegistryClientError):
    """The registry could not be reached at all: refused connection, DNS, timeout."""


class InvalidServerName(ValueError):
    """A server name not of the form ``namespace/server`` (``io.github.owner/server``): nothing sent."""


_BY_STATUS: dict[int, type[RegistryClientError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: ValidationFailed,
    415: ValidationFailed,
    422: ValidationFailed,
}


# Refusals the official API answers with 400, as the official registry does, that are
# conflicts with the registry's state all the same.
_CONFLICT_CODES = frozenset({"version_exists", "remote_url_taken", "release_in_use"})


def error_for(response: httpx.Response) -> RegistryClientError:
    """The typed error for a refused response, from its problem+json body when it has one."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip()[:200] or response.reason_phrase
        body = {"detail": f"HTTP {status}: {text}", "code": f"http_{status}"}
    detail = str(body.get("detail") or body.get("error") or body.get("title") or f"HTTP {status}")
    code = str(body.get("code") or f"http_{status}")
    raw_field = body.get("field")
    field = str(raw_field) if raw_field is not None else None
    if code == "no_deployment":
        kind: type[RegistryClientError] = NoDeployment
    elif code in _CONFLICT_CODES and status < 500:
        kind = Conflict
    elif status >= 500:
        kind = ServerError
    else:
        kind = _BY_STATUS.get(status, RegistryClientError)
    return kind(detail, code=code, field=field, status=status, body=body)


def unreachable(url: str, exc: httpx.TransportError) -> Unreachable:
    reason = type(exc).__name__ if not str(exc) else str(exc)
    return Unreachable(f"cannot reach {url}: {reason}", code="unreachable")
