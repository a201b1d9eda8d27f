"""One console request: the visitor (from the session cookie), its unit of work, its errors.

``visit`` runs a read, ``submit`` a form post (same-origin, CSRF-checked, signed in), each in
one transaction on a worker thread through ``api.http.transact``, as ``api.http.run`` does for
the API: the same services, the same principal rules, and a write tells the response cache
what changed. A
``RegistryError`` becomes an error page with the same status and code as the API's answer.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from mcpreg.api.http import transact
from mcpreg.api.runtime import runtime
from mcpreg.console import csrf, sessions
from mcpreg.console.templating import render
from mcpreg.domain.principal import ANONYMOUS, Principal
from mcpreg.errors import PayloadTooLarge, RegistryError, Unauthenticated, ValidationFailed

T = TypeVar("T")

COOKIE = "mcpreg_console"
SIGNIN_COOKIE = "mcpreg_console_signin"
PATH = "/console"
MAX_FIELDS = 64


@dataclass(frozen=True)
class Visitor:
    """Who is looking: a signed-in token's principal with the session's CSRF token, or anonymous."""

    principal: Principal
    csrf: str = ""

    @property
    def signed_in(self) -> bool:
        return not self.principal.is_anonymous


ANONYMOUS_VISITOR = Visitor(ANONYMOUS)


def _visitor(session: Session, request: Request) -> Visitor:
    found = sessions.find(session, request.cookies.get(COOKIE))
    return ANONYMOUS_VISITOR if found is None else Visitor(found.principal, found.csrf)


async def visit(request: Request, work: Callable[[Session, Visitor], T]) -> T:
    """Run a read as the visitor (anonymous without a live session)."""
    return await transact(request, lambda session: work(session, _visitor(session, request)), write=False)


async def submit(request: Request, work: Callable[[Session, Visitor, FormData], T]) -> T:
    """Run a form post: same origin, signed in, the session's CSRF token, then ``work``."""
    csrf.check_origin(request)
    limit = runtime(request.app).settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the form is larger than {limit} bytes", field="body")
    async with request.form(max_fields=MAX_FIELDS) as form:

        def call(session: Session) -> T:
            visitor = _visitor(session, request)
            if not visitor.signed_in:
                raise Unauthenticated("sign in to the console first", field="session")
            csrf.check_token(visitor.csrf, form.get(csrf.FIELD))
            return work(session, visitor, form)

        return await transact(request, call, write=True)


async def open_session(request: Request, token: str) -> tuple[str, datetime]:
    """Sign in with ``token``: the new session's id (for the cookie) and its expiry."""
    opened = await transact(request, lambda session: sessions.sign_in(session, token), write=True)
    return opened.session_id, opened.signed_in.expires_at


def secure(request: Request) -> bool:
    """Whether the cookie is marked Secure: the request came over TLS (after trusted proxy headers)."""
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PATH, secure=secure(request), httponly=True, samesite="strict"
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path=PATH, secure=secure(request), httponly=True, samesite="strict")


def back_to(path: str, notice: str | None = None) -> RedirectResponse:
    """303 to a console page (after a post), with an optional one-line notice."""
    target = path if notice is None else f"{path}{'&' if '?' in path else '?'}{urlencode({'notice': notice})}"
    return RedirectResponse(target, status_code=303)


Handler = Callable[[Request], Awaitable[Response]]


def page(handler: Handler) -> Handler:
    """Render a ``RegistryError`` as the console's error page, with the API's status and code."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except RegistryError as exc:
            return await error_page(request, exc)

    return wrapped


def _same_origin_path(request: Request, url: str | None) -> str | None:
    """The path (and query) of ``url`` when it is a page of this console, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}".lower() != csrf.own_origin(request).lower():
        return None
    if not parts.path.startswith(PATH + "/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def error_page(request: Request, exc: RegistryError) -> Response:
    try:
        visitor = await visit(request, lambda _session, visitor: visitor)
    except RegistryError:
        visitor = ANONYMOUS_VISITOR  # the database cannot say who it is: the page still explains
    context: dict[str, Any] = {
        "visitor": visitor,
        "title": exc.title,
        "error": exc,
        "status": exc.status,
        "back": _same_origin_path(request, request.headers.get("referer"))
        if request.method == "POST"
        else None,
    }
    return render(request, "error.html", context, status=exc.status)


def form_text(form: FormData, name: str, *, required: bool = True, limit: int = 500) -> str | None:
    """One text field of a console form: trimmed, at most ``limit`` characters; 422 naming it."""
    value = form.get(name)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{name} is a text field, not a file", field=name)
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed(f"{name} is required", field=name)
        return None
    if len(text) > limit:
        raise ValidationFailed(f"{name} is at most {limit} characters", field=name)
    if "\x00" in text:
        raise ValidationFailed(f"{name} contains a NUL character (U+0000)", field=name, code="nul_character")
    return text


def may_see_drafts(principal: Principal, server: str) -> bool:
    """The API's rule for drafts (``api.registry``): a token, of any scope, over the server."""
    return not principal.is_anonymous and principal.has_scope("read") and principal.covers_server(server)


def may_publish(principal: Principal, server: str) -> bool:
    """Whether the release actions apply (the services refuse them otherwise anyway)."""
    return principal.has_scope("publish") and principal.covers_server(server)
