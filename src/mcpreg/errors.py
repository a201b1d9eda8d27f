"""One error tree for the whole registry.

Every error has a stable ``code`` (what clients branch on), an HTTP ``status``,
a client-safe ``detail`` and optionally the offending ``field`` (a JSON pointer
or a parameter name). Messages never carry secret values.
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """Base of every error the registry raises on purpose."""

    code = "registry_error"
    status = 400
    title = "Registry error"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code is not None:
            self.code = code
        self.extra = extra or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, field={self.field!r}, detail={self.detail!r})"

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem details body for this error."""
        body: dict[str, Any] = {
            "type": f"https://mcpreg.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if self.field is not None:
            body["field"] = self.field
        if instance is not None:
            body["instance"] = instance
        body.update(self.extra)
        return body


class ValidationFailed(RegistryError):
    """The input breaks a rule: schema, semver, name, range, parameter."""

    code = "validation_failed"
    status = 422
    title = "Validation failed"


class BadRequest(RegistryError):
    """The request itself is malformed (bad JSON, wrong content type)."""

    code = "bad_request"
    status = 400
    title = "Bad request"


class UnsupportedMediaType(BadRequest):
    """The body is not sent as application/json."""

    code = "unsupported_media_type"
    status = 415
    title = "Unsupported media type"


class PayloadTooLarge(BadRequest):
    """The body is larger than MCPREG_MAX_BODY_BYTES."""

    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class NotFound(RegistryError):
    """The server, version, channel, environment or record does not exist."""

    code = "not_found"
    status = 404
    title = "Not found"


class NoDeployment(NotFound):
    """Nothing of this server is deployed in the environment asked for."""

    code = "no_deployment"
    title = "Nothing deployed"


class Conflict(RegistryError):
    """The change contradicts the current state (reused version, immutable release)."""

    code = "conflict"
    status = 409
    title = "Conflict"


class NotARollbackTarget(Conflict):
    """A rollback named a version that was never stable in that environment: that is a deploy."""

    code = "not_a_rollback_target"
    title = "Not a rollback target"


class ScheduledInPast(ValidationFailed):
    """A deployment's ``scheduled_at`` lies in the past (beyond the clock-skew tolerance)."""

    code = "scheduled_in_past"
    title = "Scheduled time in the past"


class Unauthenticated(RegistryError):
    """No bearer token, or one the registry does not know.

    Answered with ``WWW-Authenticate: Bearer`` (RFC 6750): ``bearer_error`` is its
    ``error`` attribute, ``invalid_token`` for an unknown, revoked or expired token,
    ``invalid_request`` for a malformed ``Authorization`` header, none when no token came.
    """

    code = "unauthenticated"
    status = 401
    title = "Authentication required"
    bearer_error: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        bearer_error: str | None = None,
    ) -> None:
        super().__init__(detail, field=field, code=code, extra=extra)
        if bearer_error is not None:
            self.bearer_error = bearer_error

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` header value."""
        if self.bearer_error is None:
            return 'Bearer realm="mcpreg"'
        description = "".join(c for c in self.detail if " " <= c <= "~" and c not in '"\\')  # RFC 6750 3
        return f'Bearer realm="mcpreg", error="{self.bearer_error}", error_description="{description}"'


class TokenExpired(Unauthenticated):
    """The bearer token was valid but is past its ``expiresAt``."""

    code = "token_expired"
    title = "Token expired"
    bearer_error = "invalid_token"


class PermissionDenied(RegistryError):
    """The token is valid but lacks the scope or namespace for this change."""

    code = "permission_denied"
    status = 403
    title = "Permission denied"


class SecretDecryptFailed(RegistryError):
    """A stored secret failed authentication: tampered, moved, or its key is gone."""

    code = "secret_decrypt_failed"
    status = 500
    title = "Secret could not be decrypted"


class ConfigurationError(RegistryError):
    """The service's own settings are unusable (missing key outside dev mode)."""

    code = "configuration_error"
    status = 500
    title = "Configuration error"


class ServiceUnavailable(RegistryError):
    """The registry cannot serve now, through no fault of the request; retry after ``retry_after`` s."""

    code = "service_unavailable"
    status = 503
    title = "Service unavailable"
    retry_after = 5


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached or cannot serve now (down, cut off, full, locked)."""

    code = "database_unavailable"
    title = "Database unavailable"
