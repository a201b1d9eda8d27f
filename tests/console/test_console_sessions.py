"""Signing in to the console: a server-side session behind an HttpOnly, SameSite=Strict cookie."""

from __future__ import annotations

import hashlib

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mcpreg.db.console_tables import ConsoleSession
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import tokens
from tests.conftest import make_token
from tests.console.conftest import ORIGIN, csrf_of, sign_in
from tests.support.live import LiveServer


def _set_cookie(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    (found,) = [h for h in headers if h.startswith(f"{name}=")]
    return str(found)


def test_signing_in_sets_a_strict_http_only_cookie_holding_no_token(
    client: TestClient, engine: sa.Engine
) -> None:
    token = make_token(engine, "alice", ["publish"])
    response = sign_in(client, token)
    cookie = _set_cookie(response, "mcpreg_console")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/console" in attributes
    assert any(a.startswith("max-age=") and 0 < int(a.split("=")[1]) <= 8 * 3600 for a in attributes)
    assert "secure" not in attributes  # plain HTTP here
    value = cookie.split(";")[0].split("=", 1)[1]
    assert token not in cookie and value != token
    with Session(engine) as session:
        (row,) = session.exec(select(ConsoleSession)).all()
    assert row.id_hash == hashlib.sha256(value.encode()).hexdigest()  # only the hash is kept
    home = client.get("/console/")
    assert "Signed in as <strong>alice</strong>" in home.text
    assert token not in home.text


def test_behind_tls_the_cookie_is_marked_secure(app: Starlette, engine: sa.Engine) -> None:
    token = make_token(engine, "alice", ["read"])
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as tls:
        response = sign_in(tls, token, origin="https://testserver")
    assert "secure" in [p.strip().lower() for p in _set_cookie(response, "mcpreg_console").split(";")]


def test_an_unknown_token_is_refused_in_words_and_opens_no_session(
    client: TestClient, engine: sa.Engine
) -> None:
    form = client.get("/console/signin")
    response = client.post(
        "/console/signin",
        data={"token": "mcpreg_nope", "csrf": csrf_of(form.text)},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 401
    assert "unauthenticated" in response.text
    assert "mcpreg_console=" not in " ".join(response.headers.get_list("set-cookie"))
    with Session(engine) as session:
        assert session.exec(select(ConsoleSession)).all() == []


def test_signing_out_or_revoking_the_token_ends_the_session_on_the_server(
    client: TestClient, engine: sa.Engine
) -> None:
    sign_in(client, make_token(engine, "alice", ["read"]))
    stolen = client.cookies.get("mcpreg_console")
    page = client.get("/console/")
    out = client.post("/console/signout", data={"csrf": csrf_of(page.text)}, headers={"Origin": ORIGIN})
    assert out.status_code == 303
    with Session(engine) as session:
        assert session.exec(select(ConsoleSession)).all() == []
    client.cookies.set("mcpreg_console", stolen or "", path="/console")  # replaying the old cookie
    assert "Sign in</a>" in client.get("/console/").text

    # Revoking the token ends every session it opened.
    client.cookies.clear()
    sign_in(client, make_token(engine, "bob", ["read"]))
    assert "Signed in as" in client.get("/console/").text
    with unit_of_work(engine, write=True) as session:
        tokens.revoke_token(session, SYSTEM, "bob")
    assert "Signed in as" not in client.get("/console/").text
    assert client.get("/console/history").status_code == 401


def test_a_session_ends_at_its_expiry_and_never_outlives_its_token(engine: sa.Engine) -> None:
    from datetime import timedelta

    from mcpreg.console import sessions
    from mcpreg.db.types import utcnow

    forever = make_token(engine, "alice", ["read"])
    with unit_of_work(engine, write=True) as s:
        opened = sessions.sign_in(s, forever)
        short = tokens.create_token(
            s, SYSTEM, name="brief", scopes=["read"], expires_at=utcnow() + timedelta(hours=1)
        )
    with unit_of_work(engine, write=True) as s:
        brief = sessions.sign_in(s, short.token)
    assert brief.signed_in.expires_at <= utcnow() + timedelta(hours=1)
    with Session(engine) as s:
        assert sessions.find(s, opened.session_id) is not None
        assert (
            sessions.find(s, opened.session_id, now=utcnow() + sessions.LIFETIME + timedelta(seconds=1))
            is None
        )
        assert sessions.find(s, brief.session_id, now=utcnow() + timedelta(hours=1, seconds=1)) is None
        assert sessions.find(s, "not-a-session") is None


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/console/history", "/console/history"),
        ("//evil.example/console/", "/console/"),
        ("https://evil.example/", "/console/"),
        ("/console/\\\\evil", "/console/"),
        ("/api/tokens", "/console/"),
    ],
)
def test_after_signing_in_it_goes_back_to_a_console_page_only(asked: str, goes: str) -> None:
    from mcpreg.console.signin import _next

    assert _next(asked) == goes


def test_behind_a_tls_proxy_the_scheme_it_forwards_marks_the_cookies_secure(
    live_console: LiveServer, engine: sa.Engine
) -> None:
    token = make_token(engine, "alice", ["read"])
    proxied = {"X-Forwarded-Proto": "https"}  # from 127.0.0.1, which uvicorn trusts by default
    with httpx.Client(base_url=live_console.url, headers=proxied, follow_redirects=False) as browser:
        form = browser.get("/console/signin")
        assert "secure" in [p.strip().lower() for p in _set_cookie(form, "mcpreg_console_signin").split(";")]
        # The client speaks plain HTTP to the server, so it holds back a Secure cookie: send it
        # as the browser would over the proxy's TLS.
        pre = form.cookies["mcpreg_console_signin"]
        origin = "https://" + live_console.url.split("://", 1)[1]
        browser.cookies.clear()
        signed = browser.post(
            "/console/signin",
            data={"token": token, "csrf": csrf_of(form.text)},
            headers={"Origin": origin, "Cookie": f"mcpreg_console_signin={pre}"},
        )
        assert signed.status_code == 303
        assert "secure" in [p.strip().lower() for p in _set_cookie(signed, "mcpreg_console").split(";")]
