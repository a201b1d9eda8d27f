"""Tokens: optional expiry, 401s that say why, and a name created twice at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import Token
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.errors import Conflict, RegistryError, TokenExpired, Unauthenticated, ValidationFailed
from mcpreg.services import tokens
from tests.support.waiting import wait_until

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def expire(engine: sa.Engine, name: str) -> None:
    """Move a token's expiry into the past, as time passing would."""
    with unit_of_work(engine, write=True) as session:
        row = session.exec(select(Token).where(Token.name == name)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        session.add(row)


# -- expiry: what a creation request may say ------------------------------------------------


@pytest.mark.parametrize(
    ("expires_in", "delta"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("1d12h", timedelta(hours=36)),
        ("90", timedelta(seconds=90)),
    ],
)
def test_expires_in_counts_from_now(expires_in: str, delta: timedelta) -> None:
    assert tokens.expiry(expires_in=expires_in, now=NOW) == NOW + delta


def test_expires_at_is_taken_as_given() -> None:
    assert tokens.expiry(expires_at="2027-01-01T00:00:00Z", now=NOW) == datetime(2027, 1, 1, tzinfo=UTC)
    assert tokens.expiry(expires_at="2027-01-01T02:00:00+02:00", now=NOW) == datetime(2027, 1, 1, tzinfo=UTC)


def test_no_expiry_means_never() -> None:
    assert tokens.expiry(now=NOW) is None


@pytest.mark.parametrize(
    ("expires_at", "expires_in", "field"),
    [
        ("2026-12-01T07:59:59Z", None, "expiresAt"),  # in the past
        ("2026-12-01T08:00:00Z", None, "expiresAt"),  # now is not the future
        ("2027-01-01T00:00:00", None, "expiresAt"),  # no time zone
        ("next tuesday", None, "expiresAt"),
        (None, "0", "expiresIn"),
        (None, "0s", "expiresIn"),
        (None, "forever", "expiresIn"),
        (None, "30 days", "expiresIn"),
        (None, "-1d", "expiresIn"),
        (None, "366d", "expiresIn"),
        ("2027-01-01T00:00:00Z", "30d", "expiresIn"),  # both
    ],
)
def test_an_unusable_expiry_is_refused_naming_its_field(
    expires_at: str | None, expires_in: str | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        tokens.expiry(expires_at=expires_at, expires_in=expires_in, now=NOW)
    assert refused.value.field == field


def test_a_token_created_with_an_expiry_shows_it(session: Session) -> None:
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    created = tokens.create_token(session, SYSTEM, name="ci", scopes=["publish"], expires_at=at)
    session.commit()
    assert created.expires_at == at
    assert created.expired is False
    listed = {t.name: t for t in tokens.list_tokens(session)}
    assert listed["ci"].expires_at == at


def test_a_token_created_without_an_expiry_never_expires(session: Session) -> None:
    created = tokens.create_token(session, SYSTEM, name="ci", scopes=["publish"])
    assert created.expires_at is None
    assert created.expired is False


def test_creating_a_token_that_expires_in_the_past_is_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        tokens.create_token(
            session, SYSTEM, name="ci", scopes=["read"], expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
    assert refused.value.field == "expiresAt"


# -- authentication ---------------------------------------------------------------------------


def test_a_token_before_its_expiry_authenticates(engine: sa.Engine) -> None:
    with unit_of_work(engine, write=True) as session:
        at = datetime.now(UTC) + timedelta(hours=1)
        plaintext = tokens.create_token(session, SYSTEM, name="ci", scopes=["publish"], expires_at=at).token
    with unit_of_work(engine) as session:
        principal = tokens.authenticate(session, f"Bearer {plaintext}")
    assert principal.name == "ci"
    assert principal.has_scope("publish")
    tokens.require(principal, "publish")


def test_an_expired_token_is_401_token_expired_with_an_invalid_token_challenge(engine: sa.Engine) -> None:
    with unit_of_work(engine, write=True) as session:
        at = datetime.now(UTC) + timedelta(hours=1)
        plaintext = tokens.create_token(session, SYSTEM, name="ci", scopes=["publish"], expires_at=at).token
    expire(engine, "ci")
    with unit_of_work(engine) as session, pytest.raises(TokenExpired) as refused:
        tokens.authenticate(session, f"Bearer {plaintext}")
    assert refused.value.status == 401
    assert refused.value.code == "token_expired"
    assert refused.value.field == "Authorization"
    assert refused.value.challenge.startswith('Bearer realm="mcpreg", error="invalid_token"')
    listed = {t.name: t for t in tokens.list_tokens(Session(engine))}
    assert listed["ci"].expired is True


def test_a_remembered_principal_holds_no_scope_once_its_token_expires() -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    principal = Principal(name="ci", scopes=frozenset({"admin"}), token_id=7, expires_at=past)
    assert principal.expired()
    assert not principal.has_scope("read")
    with pytest.raises(TokenExpired):
        tokens.require(principal, "read")


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, 'Bearer realm="mcpreg"'),
        ("Bearer mcpreg_unknown", 'Bearer realm="mcpreg", error="invalid_token"'),
        ("Basic dXNlcjpwYXNz", 'Bearer realm="mcpreg", error="invalid_request"'),
    ],
    ids=["no-token", "unknown-token", "not-bearer"],
)
def test_every_refusal_to_authenticate_carries_a_bearer_challenge(
    engine: sa.Engine, authorization: str | None, challenge: str
) -> None:
    with unit_of_work(engine) as session, pytest.raises(Unauthenticated) as refused:
        tokens.require(tokens.authenticate(session, authorization), "read")
    assert refused.value.status == 401
    assert refused.value.challenge.startswith(challenge)
    assert "mcpreg_unknown" not in refused.value.challenge


def test_a_revoked_token_is_an_invalid_token(engine: sa.Engine) -> None:
    with unit_of_work(engine, write=True) as session:
        plaintext = tokens.create_token(session, SYSTEM, name="ci", scopes=["publish"]).token
    with unit_of_work(engine, write=True) as session:
        tokens.revoke_token(session, SYSTEM, "ci")
    with unit_of_work(engine) as session, pytest.raises(Unauthenticated) as refused:
        tokens.authenticate(session, f"Bearer {plaintext}")
    assert refused.value.bearer_error == "invalid_token"


# -- one name, two creations at once ------------------------------------------------------------


def _wait_for_a_blocked_insert(engine: sa.Engine) -> None:
    """On PostgreSQL, until another session waits on a lock (the unique name); bounded."""
    if engine.dialect.name != "postgresql":
        return
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    def blocked() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(query).scalar())

    wait_until(blocked, 10, "the second creation reaching the insert")


def test_two_creations_of_one_name_at_once_land_one_token_and_a_409(engine: sa.Engine) -> None:
    """Both pass the "already exists?" check; the second insert then meets the first's row."""
    outcome: dict[str, str] = {}

    def second() -> None:
        try:
            with unit_of_work(engine, write=True) as session:
                tokens.create_token(session, SYSTEM, name="ci", scopes=["read"])
            outcome["second"] = "created"
        except RegistryError as exc:
            outcome["second"] = exc.code
            outcome["status"] = str(exc.status)
        except Exception as exc:  # the bug: a raw IntegrityError, a 500 at the API
            outcome["second"] = type(exc).__name__

    thread = threading.Thread(target=second)
    with unit_of_work(engine, write=True) as first:
        tokens.create_token(first, SYSTEM, name="ci", scopes=["publish"])
        thread.start()
        _wait_for_a_blocked_insert(engine)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert outcome == {"second": "token_exists", "status": "409"}
    with unit_of_work(engine) as session:
        rows = session.exec(select(Token).where(Token.name == "ci")).all()
    assert [row.scopes for row in rows] == ["publish"]


def test_a_second_token_of_one_name_is_a_conflict(session: Session) -> None:
    tokens.create_token(session, SYSTEM, name="ci", scopes=["publish"])
    with pytest.raises(Conflict) as refused:
        tokens.create_token(session, SYSTEM, name="ci", scopes=["read"])
    assert refused.value.code == "token_exists"
    assert refused.value.field == "name"
