"""POST/GET /api/tokens with an expiry, and what every 401 says (RFC 6750 ``WWW-Authenticate``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import make_token
from tests.services.test_tokens import expire
from tests.support.inprocess import InProcess
from tests.support.problems import assert_problem
from tests.support.waiting import wait_until


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_token_created_with_expires_in_lists_its_expiry(app_api: httpx.Client) -> None:
    before = datetime.now(UTC)
    created = app_api.post("/api/tokens", json={"name": "ci", "scopes": ["publish"], "expiresIn": "30d"})
    assert created.status_code == 201, created.text
    expires_at = _at(created.json()["expiresAt"])
    assert before + timedelta(days=30) <= expires_at <= datetime.now(UTC) + timedelta(days=30)
    listed = {t["name"]: t for t in app_api.get("/api/tokens").json()["tokens"]}
    assert listed["ci"]["expiresAt"] == created.json()["expiresAt"]
    assert listed["ci"]["expired"] is False
    assert listed["admin-test"]["expiresAt"] is None


def test_a_token_created_with_expires_at_keeps_that_instant(app_api: httpx.Client) -> None:
    created = app_api.post(
        "/api/tokens", json={"name": "ci", "scopes": ["read"], "expiresAt": "2099-01-01T00:00:00Z"}
    )
    assert created.status_code == 201, created.text
    assert created.json()["expiresAt"] == "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"expiresAt": "tomorrow"}, "expiresAt"),
        ({"expiresAt": "2099-01-01T00:00:00"}, "expiresAt"),
        ({"expiresAt": 4102444800}, "expiresAt"),
        ({"expiresIn": "forever"}, "expiresIn"),
        ({"expiresIn": "0s"}, "expiresIn"),
        ({"expiresIn": 30}, "expiresIn"),
        ({"expiresIn": "30d", "expiresAt": "2099-01-01T00:00:00Z"}, "expiresIn"),
    ],
)
def test_an_unusable_expiry_is_422_naming_the_field_and_creates_nothing(
    app_api: httpx.Client, extra: dict[str, Any], field: str
) -> None:
    response = app_api.post("/api/tokens", json={"name": "ci", "scopes": ["read"], **extra})
    assert_problem(response, 422, "validation_failed", field)
    assert "ci" not in {t["name"] for t in app_api.get("/api/tokens").json()["tokens"]}


def test_an_expired_token_gets_401_token_expired_with_a_bearer_challenge(
    app_server: InProcess, app_api: httpx.Client, engine: sa.Engine
) -> None:
    token = app_api.post("/api/tokens", json={"name": "ci", "scopes": ["admin"], "expiresIn": "1h"}).json()[
        "token"
    ]
    expire(engine, "ci")
    for method, path in (("GET", "/api/tokens"), ("GET", "/api/whoami"), ("POST", "/api/tokens")):
        with app_server.client(token) as client:
            response = client.request(method, path, json={"name": "x", "scopes": ["read"]})
        assert_problem(response, 401, "token_expired", "Authorization")
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="mcpreg", error="invalid_token"'), challenge
        assert token not in challenge


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, None),
        ("Bearer mcpreg_not-a-token", "invalid_token"),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearer", "invalid_request"),
    ],
    ids=["no-token", "unknown-token", "basic-scheme", "empty-bearer"],
)
def test_every_401_carries_www_authenticate_bearer(
    app_server: InProcess, authorization: str | None, error: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (("GET", "/api/tokens"), ("DELETE", "/api/tokens/nobody"), ("GET", "/api/audit")):
        with app_server.client(headers=headers) as client:
            response = client.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.text)
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="mcpreg"'), challenge
        if error is None:
            assert "error=" not in challenge
        else:
            assert f'error="{error}"' in challenge


def test_a_revoked_token_gets_an_invalid_token_challenge(
    app_server: InProcess, engine: sa.Engine, app_api: httpx.Client
) -> None:
    token = make_token(engine, "ci", ["publish"])
    assert app_api.delete("/api/tokens/ci").status_code in (200, 204)
    with app_server.client(token) as client:
        response = client.get("/api/whoami")
    assert_problem(response, 401, "unauthenticated", "Authorization")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def _create_at_once(server: InProcess, headers: dict[str, str], name: str) -> list[int]:
    """POST /api/tokens for ``name`` from two threads released together; the statuses."""
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def create(scope: str) -> None:
        with server.client(headers=headers) as client:
            barrier.wait(timeout=10)
            response = client.post("/api/tokens", json={"name": name, "scopes": [scope]})
            statuses.append(response.status_code)
            if response.status_code == 409:
                assert response.json()["code"] == "token_exists"

    threads = [threading.Thread(target=create, args=(scope,)) for scope in ("read", "publish")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(statuses)


def test_two_creations_of_one_name_at_once_give_one_201_and_one_409(
    app_api: httpx.Client, app_server: InProcess
) -> None:
    """The race of the issue, through HTTP: never a 5xx, exactly one token per name."""
    for round_ in range(10):
        assert _create_at_once(app_server, dict(app_api.headers), f"race-{round_}") == [201, 409]
    names = [t["name"] for t in app_api.get("/api/tokens").json()["tokens"]]
    assert sorted(n for n in names if n.startswith("race-")) == sorted(f"race-{i}" for i in range(10))


def test_a_token_remembered_by_the_replica_stops_working_when_it_expires(
    app_server: InProcess, app_api: httpx.Client
) -> None:
    """Reads remember principals until the next change; an expiry needs no change to bite."""
    created = app_api.post(
        "/api/tokens", json={"name": "brief", "scopes": ["admin"], "expiresIn": "1"}
    ).json()
    with app_server.client(created["token"]) as brief:
        assert brief.get("/api/whoami").json()["name"] == "brief"  # now remembered
        expires_at = _at(created["expiresAt"])
        wait_until(lambda: datetime.now(UTC) >= expires_at, timeout=5, what="the token's one second")
        # Public reads too: a token that is sent must be valid, even where none is needed.
        for path in ("/api/whoami", "/api/tokens", "/api/audit", "/v0.1/servers", "/api/environments"):
            response = brief.get(path)
            assert_problem(response, 401, "token_expired", "Authorization")
            assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_an_expiry_beyond_what_the_database_can_hold_is_refused_by_name(app_api: httpx.Client) -> None:
    response = app_api.post(
        "/api/tokens", json={"name": "far", "scopes": ["read"], "expiresAt": "9999-12-31T23:30:00-01:00"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "expiresAt"
    assert "far" not in [t["name"] for t in app_api.get("/api/tokens").json()["tokens"]]
