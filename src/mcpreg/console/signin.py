"""Signing in and out of the console.

``GET /console/signin`` shows the form; ``POST`` checks the token (as the API would), opens
a server-side session and sets its cookie: HttpOnly, SameSite=Strict, Path=/console, Secure
when the request came over TLS, and a Max-Age that ends with the session. The form itself
is protected before any session exists by a double-submit cookie, and by the same-origin
rule every console write follows. ``POST /console/signout`` ends the session.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mcpreg.console import csrf, sessions
from mcpreg.console.templating import render
from mcpreg.console.visits import (
    ANONYMOUS_VISITOR,
    COOKIE,
    MAX_FIELDS,
    SIGNIN_COOKIE,
    Visitor,
    clear_cookie,
    open_session,
    page,
    set_cookie,
    submit,
)
from mcpreg.errors import RegistryError, Unauthenticated, ValidationFailed

HOME = "/console/"
SIGNIN_FORM_AGE = 3600  # seconds the sign-in form's CSRF cookie lives
MAX_TOKEN = 512


def _next(value: object) -> str:
    """Where to go after signing in: a console path only (never another site)."""
    if isinstance(value, str) and value.startswith("/console/") and "//" not in value and "\\" not in value:
        return value
    return HOME


def _form(request: Request, value: str, *, next_path: str, error: RegistryError | None = None) -> Response:
    context = {
        "visitor": ANONYMOUS_VISITOR,
        "title": "Sign in",
        "csrf": value,
        "next": next_path,
        "error": error,
        "lifetime_hours": int(sessions.LIFETIME.total_seconds() // 3600),
    }
    response = render(request, "signin.html", context, status=error.status if error else 200)
    set_cookie(response, request, SIGNIN_COOKIE, value, max_age=SIGNIN_FORM_AGE)
    return response


async def signin_form(request: Request) -> Response:
    value = request.cookies.get(SIGNIN_COOKIE) or sessions.new_secret()
    return _form(request, value, next_path=_next(request.query_params.get("next")))


@page
async def signin(request: Request) -> Response:
    csrf.check_origin(request)
    async with request.form(max_fields=MAX_FIELDS) as form:
        csrf.check_token(request.cookies.get(SIGNIN_COOKIE), form.get(csrf.FIELD))
        token, next_path = form.get("token"), _next(form.get("next"))
    value = request.cookies.get(SIGNIN_COOKIE) or sessions.new_secret()
    try:
        if not isinstance(token, str) or not token.strip():
            raise ValidationFailed("paste a token to sign in", field="token")
        if len(token) > MAX_TOKEN:
            raise Unauthenticated("the token is unknown or revoked", field="token")
        session_id, expires = await open_session(request, token)
    except RegistryError as exc:
        return _form(request, value, next_path=next_path, error=exc)
    response = RedirectResponse(next_path, status_code=303)
    max_age = max(1, int((expires - datetime.now(UTC)).total_seconds()))
    set_cookie(response, request, COOKIE, session_id, max_age=max_age)
    clear_cookie(response, request, SIGNIN_COOKIE)
    return response


@page
async def signout(request: Request) -> Response:
    session_id = request.cookies.get(COOKIE)

    def work(session: Session, _visitor: Visitor, _form: FormData) -> None:
        sessions.sign_out(session, session_id)

    # Same origin and this session's CSRF token, or refused; a session already ended has
    # nothing to close.
    with contextlib.suppress(Unauthenticated):
        await submit(request, work)
    response = RedirectResponse(HOME, status_code=303)
    clear_cookie(response, request, COOKIE)
    return response
