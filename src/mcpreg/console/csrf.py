"""Cross-site request forgery: every console POST is same-origin and carries its CSRF token.

Two checks, both on every write. The request's ``Origin`` (or, where a browser leaves it
out, its ``Referer``) must be this console's own origin, as the request arrived (scheme
and host after the trusted proxy headers); a request with neither is refused too. And the
form's ``csrf`` field must equal the session's CSRF token (the sign-in form, before any
session, carries the value of a short-lived cookie instead: double submit).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.requests import Request

from mcpreg.errors import PermissionDenied

FIELD = "csrf"
"""The form field every console form carries."""


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def check_origin(request: Request) -> None:
    """403 ``cross_origin`` unless the write comes from a page of this console's origin."""
    sent = request.headers.get("origin")
    field = "Origin"
    if sent is None and (referer := request.headers.get("referer")) is not None:
        sent, field = _origin(referer), "Referer"
    if sent is None:
        raise PermissionDenied(
            "a console write needs an Origin or Referer header of this console",
            field="Origin",
            code="cross_origin",
        )
    if sent.lower() != own_origin(request).lower():
        raise PermissionDenied(
            f"a console write from another origin ({sent}) is refused", field=field, code="cross_origin"
        )


def check_token(expected: str | None, sent: object) -> None:
    """403 ``csrf_failed`` unless the form's token is the expected one (compared in constant time)."""
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise PermissionDenied(
            "the form's CSRF token is missing or stale: reload the page and try again",
            field=FIELD,
            code="csrf_failed",
        )
