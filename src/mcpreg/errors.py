"""One error tree for the whole registry.

Every error has a stable ``code`` (what clients branch on), an HTTP ``status``,
a client-safe ``detail`` and optionally the offending ``field`` (a JSON pointer
or a parameter name). Messages never carry secret values.

``CATALOGUE`` lists every code, written literally, with its HTTP status and meaning
(``ERROR_CODES`` is the set of them); the README's "Errors" table is the same list,
and tests/test_errors.py checks both against every code written in ``src/``.
"""

from __future__ import annotations

from typing import Any, NamedTuple


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


class InvalidWindow(BadRequest):
    """A traffic ``window`` that is not a duration such as ``30s``, ``5m`` or ``1h`` (at most 24h)."""

    code = "invalid_window"
    title = "Invalid window"


class MethodNotAllowed(RegistryError):
    """The path exists but does not take this HTTP method (answered with ``Allow``)."""

    code = "method_not_allowed"
    status = 405
    title = "Method not allowed"


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


class InternalError(RegistryError):
    """Something the registry did not expect failed; the exchange is dropped, nothing is changed."""

    code = "internal_error"
    status = 500
    title = "Internal error"


class HTTPError(RegistryError):
    """A Starlette ``HTTPException`` of a status no other class answers (no mcpreg route raises one)."""

    code = "http_error"
    title = "HTTP error"

    def __init__(self, detail: str, *, status: int) -> None:
        super().__init__(detail)
        self.status = status


class UpstreamFailed(RegistryError):
    """An upstream registry answered a sync with an error, garbage, or not at all."""

    code = "upstream_failed"
    status = 502
    title = "Upstream failed"


class SessionExpired(NotFound):
    """A gateway session is pinned to a version no longer routed for its client: initialize again."""

    code = "session_expired"
    title = "Session expired"


class NoStreamableRemote(Conflict):
    """The routed release has no streamable-http remote for the gateway to forward to."""

    code = "no_streamable_remote"
    title = "No streamable-http remote"


class GatewayError(RegistryError):
    """The gateway got no usable answer from the routed upstream (the gateway itself is fine)."""

    code = "gateway_error"
    status = 502
    title = "Bad gateway"


class UpstreamRefused(GatewayError):
    """The upstream refused the connection, or it could not be reached at all."""

    code = "upstream_refused"
    title = "Upstream refused the connection"


class UpstreamForbidden(GatewayError):
    """The upstream's address is one the gateway may not connect to (private, loopback, http)."""

    code = "upstream_forbidden"
    title = "Upstream address forbidden"


class UpstreamTimeout(GatewayError):
    """The upstream did not answer within ``MCPREG_GATEWAY_TIMEOUT``."""

    code = "upstream_timeout"
    status = 504
    title = "Upstream timed out"


class UpstreamServerError(GatewayError):
    """The upstream answered with a 5xx status."""

    code = "upstream_5xx"
    title = "Upstream error"


class RateLimited(RegistryError):
    """A gateway rate limit refused the request; it may be sent again after ``retry_after`` s."""

    code = "rate_limited"
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, bucket: str) -> None:
        super().__init__(detail, field=bucket, extra={"retryAfter": retry_after})
        self.retry_after = retry_after


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


class ErrorCode(NamedTuple):
    """One code of the catalogue: its HTTP status on ``/api`` (None: CLI or client only) and meaning."""

    code: str
    status: int | None
    meaning: str


# Every code, written literally. By status, then name; on ``/v0.1`` and ``/v0`` a few take the
# official registry's status (see mcpreg.api.parity). The README's "Errors" table is this list.
CATALOGUE: tuple[ErrorCode, ...] = (
    ErrorCode("bad_request", 400, "the request itself is malformed"),
    ErrorCode("empty_body", 400, "the request needs a JSON body and has none"),
    ErrorCode("http_error", 400, "an HTTP error of another status, which it keeps (no route raises one)"),
    ErrorCode("invalid_body", 400, "the body is JSON but not an object (or not a server.json object)"),
    ErrorCode("invalid_repository_url", 400, "publish: a GitHub/GitLab `repository.url` names no repository"),
    ErrorCode("invalid_updated_since", 400, "`updated_since` is not an RFC 3339 time (the official rule)"),
    ErrorCode("invalid_window", 400, "a traffic `window` that is not a duration like `5m` (1s to 24h)"),
    ErrorCode("malformed_json", 400, "the body is not valid JSON"),
    ErrorCode("no_changes", 400, "a status or environment change that changes nothing"),
    ErrorCode("publisher_meta_too_large", 400, "publish: the publisher-provided `_meta` block is over 4 KB"),
    ErrorCode("registry_error", 400, "the base of every error; never answered on its own"),
    ErrorCode("schema_required", 400, "publish: the server.json has no `$schema`"),
    ErrorCode("status_message_not_allowed", 400, "a status message with status `active`"),
    ErrorCode("token_expired", 401, "the bearer token is past its `expiresAt`"),
    ErrorCode("unauthenticated", 401, "no bearer token, a malformed one, or one the registry does not know"),
    ErrorCode("cross_origin", 403, "console: a write whose Origin or Referer is another site's or missing"),
    ErrorCode("csrf_failed", 403, "console: a form without this session's CSRF token"),
    ErrorCode("environment_denied", 403, "the token may not act on this environment"),
    ErrorCode("environment_protected", 403, "deploying to a protected environment needs the `deploy` scope"),
    ErrorCode("namespace_denied", 403, "the server is outside the token's namespaces"),
    ErrorCode("permission_denied", 403, "the token lacks the scope this needs"),
    ErrorCode("self_approval", 403, "a deployment is approved by a principal other than its requester"),
    ErrorCode("channel_not_found", 404, "the server has no such channel"),
    ErrorCode("curation_not_found", 404, "no such allow/deny rule, local namespace or pin"),
    ErrorCode("deployment_not_found", 404, "no deployment with this id in the environment"),
    ErrorCode("environment_not_found", 404, "no environment of that name"),
    ErrorCode("gate_not_found", 404, "the environment has no gate of that name"),
    ErrorCode("no_deployment", 404, "nothing of the server is deployed in the environment"),
    ErrorCode("no_matching_version", 404, "no active release satisfies the range"),
    ErrorCode("not_found", 404, "no route, or no record, at this path"),
    ErrorCode("secret_not_found", 404, "the server has no secret of that name at that scope"),
    ErrorCode("server_not_found", 404, "no server of that name"),
    ErrorCode("session_expired", 404, "gateway: the session's version is no longer routed; initialize again"),
    ErrorCode("testset_not_found", 404, "the server has no test set of that name"),
    ErrorCode("testset_run_not_found", 404, "the test set has no run with this id"),
    ErrorCode("upstream_not_found", 404, "no upstream of that name"),
    ErrorCode("variable_not_found", 404, "the server has no variable of that name at that scope"),
    ErrorCode("version_not_found", 404, "no such version or channel (or it is not deployed there)"),
    ErrorCode("method_not_allowed", 405, "the path does not take this method; `Allow` lists those it does"),
    ErrorCode("already_deployed", 409, "the version is already the stable one in the environment"),
    ErrorCode("conflict", 409, "the change contradicts the current state"),
    ErrorCode("draft_status", 409, "a draft is published, not given a status"),
    ErrorCode("environment_exists", 409, "an environment of that name exists"),
    ErrorCode("gates_pending", 409, "a promote whose step's gates have not passed (`waitingOn` names them)"),
    ErrorCode("immutable_release", 409, "a published release is never edited; publish a new version"),
    ErrorCode("name_clash", 409, "the server holds mirrored releases; local ones are never mixed in"),
    ErrorCode("name_is_secret", 409, "the name is already a secret of the server (a variable was set)"),
    ErrorCode("name_is_variable", 409, "the name is already a variable of the server (a secret was set)"),
    ErrorCode("namespace_mirrored", 409, "an upstream owns the namespace: read-only unless marked local"),
    ErrorCode("no_next_environment", 409, "promotion from the last environment"),
    ErrorCode("no_rollback_target", 409, "no earlier good version to roll back to; name one"),
    ErrorCode("no_rollout", 409, "the server has no rollout in the environment"),
    ErrorCode("no_streamable_remote", 409, "gateway: the routed release has no streamable-http remote"),
    ErrorCode("not_a_draft", 409, "the release is not a draft"),
    ErrorCode("not_a_rollback_target", 409, "the version was never stable in the environment: deploy it"),
    ErrorCode("not_cancellable", 409, "the deployment is past cancelling"),
    ErrorCode("not_pending_approval", 409, "the deployment does not wait for approval"),
    ErrorCode("prerelease_not_allowed", 409, "the environment does not accept pre-releases"),
    ErrorCode("promotion_not_forward", 409, "promotion goes to a later environment only"),
    ErrorCode("promotion_skips_environment", 409, "the promotion skips an environment; send `force`"),
    ErrorCode("release_deleted", 409, "the release is deleted"),
    ErrorCode("release_in_use", 409, "the release runs in an environment; deploy another or use force"),
    ErrorCode("release_is_draft", 409, "the release is a draft; publish it first"),
    ErrorCode("release_not_active", 409, "only active releases can be deployed"),
    ErrorCode("release_not_published", 409, "a channel points at published releases only"),
    ErrorCode("remote_url_taken", 409, "another server serves this remote URL (400 on `/v0.1`, `/v0`)"),
    ErrorCode("rollout_already_paused", 409, "the rollout is already paused"),
    ErrorCode("rollout_not_active", 409, "the rollout is not in progress"),
    ErrorCode("rollout_not_paused", 409, "the rollout is not paused"),
    ErrorCode("sync_in_progress", 409, "another replica (or request) is syncing this upstream now"),
    ErrorCode("token_exists", 409, "a token of that name exists"),
    ErrorCode("upstream_exists", 409, "an upstream of that name exists"),
    ErrorCode("upstream_unconfigured", 409, "gateway: a remote URL variable or required header has no value"),
    ErrorCode("version_exists", 409, "version numbers are never reused (400 on `/v0.1`, `/v0`)"),
    ErrorCode("version_not_deployed", 409, "the version is not what runs in the source environment"),
    ErrorCode("payload_too_large", 413, "the body is over `MCPREG_MAX_BODY_BYTES`"),
    ErrorCode("unsupported_media_type", 415, "the body is not sent as `application/json`"),
    ErrorCode("ambiguous_scope", 422, "both `?version=` and `?environment=`: one scope at a time"),
    ErrorCode("declared_secret", 422, "the server.json declares this name secret: set it as a secret"),
    ErrorCode("immutable_name", 422, "an environment is never renamed"),
    ErrorCode("invalid_channel", 422, "not a channel name, or one that parses as a version or range"),
    ErrorCode("invalid_curation", 422, "a curation pattern, effect, namespace or upstream breaks its rule"),
    ErrorCode("invalid_cursor", 422, "a cursor that no page gave"),
    ErrorCode("invalid_environment", 422, "a configuration `environment` that is not an environment name"),
    ErrorCode("invalid_environment_name", 422, "not an environment name (1-63 of a-z, 0-9, '-')"),
    ErrorCode("invalid_gate", 422, "a gate name, kind, point, URL, secret, timeout or retry breaks its rule"),
    ErrorCode("invalid_name", 422, "not a variable or secret name"),
    ErrorCode("invalid_range", 422, "not an npm version range"),
    ErrorCode("invalid_status", 422, "not a release status"),
    ErrorCode("invalid_strategy", 422, "not a deployment strategy"),
    ErrorCode("invalid_upstream", 422, "an upstream name, URL, pattern, interval or token breaks its rule"),
    ErrorCode("invalid_value", 422, "a variable or secret value that is not a string, or too long"),
    ErrorCode("invalid_version", 422, "not a SemVer 2.0.0 version"),
    ErrorCode("name_mismatch", 422, "the body's name differs from the path's (400 on `/v0.1`, `/v0`)"),
    ErrorCode("nul_character", 422, "a NUL character (U+0000), which the databases cannot hold"),
    ErrorCode("reserved_channel", 422, "`latest` is moved by the registry only"),
    ErrorCode("scheduled_in_past", 422, "a deployment's `scheduled_at` lies in the past"),
    ErrorCode("too_deep", 422, "a body nested more than 64 levels deep"),
    ErrorCode("unknown_field", 422, "a field the request does not take"),
    ErrorCode("validation_failed", 422, "the input breaks a rule (every violation in `errors`)"),
    ErrorCode("value_required", 422, "the body has no `value`"),
    ErrorCode("version_mismatch", 422, "the body's version differs from the path's (400 on `/v0.1`, `/v0`)"),
    ErrorCode("configuration_error", 500, "the registry's own settings are unusable"),
    ErrorCode("internal_error", 500, "an unexpected failure; nothing was changed, the connection closes"),
    ErrorCode("secret_decrypt_failed", 500, "a stored secret fails authentication (tampered, moved)"),
    ErrorCode("unknown_key", 500, "a secret is sealed under a key not in `MCPREG_SECRET_KEYS`"),
    ErrorCode("gateway_error", 502, "gateway: no usable answer from the upstream (base of `upstream_*`)"),
    ErrorCode("upstream_5xx", 502, "gateway: the upstream answered with a 5xx status"),
    ErrorCode("upstream_failed", 502, "an upstream answered a sync with an error, garbage, or not at all"),
    ErrorCode("upstream_forbidden", 502, "gateway: the upstream's address is private and not allowed here"),
    ErrorCode("upstream_refused", 502, "gateway: the upstream refused the connection or cannot be reached"),
    ErrorCode("rate_limited", 429, "gateway: over the rate limit of the server there or of the client"),
    ErrorCode("database_unavailable", 503, "the database cannot serve now; retry after `Retry-After`"),
    ErrorCode("service_unavailable", 503, "the registry cannot serve now; retry after `Retry-After`"),
    ErrorCode("upstream_timeout", 504, "gateway: no answer from the upstream in `MCPREG_GATEWAY_TIMEOUT`"),
    ErrorCode("invalid_response", None, "client: the answer is not mcpreg's API"),
    ErrorCode("no_database", None, "CLI local commands: no database where one is expected; nothing created"),
    ErrorCode("not_utf8", None, "CLI import: a file that is not UTF-8"),
    ErrorCode("nothing_landed", None, "CLI import: every entry was skipped"),
    ErrorCode("unreachable", None, "client: the registry cannot be reached (connection, DNS, timeout)"),
)

ERROR_CODES: frozenset[str] = frozenset(entry.code for entry in CATALOGUE)
