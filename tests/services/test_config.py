"""Variables and secrets as services: scoping, resolution order, declarations, write-only
listing, reveal by scope, and the rules on names, values and permissions."""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.crypto import KeyRing, SecretValue
from mcpreg.db.config_tables import Secret
from mcpreg.db.tables import JournalEntry
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    SecretDecryptFailed,
    Unauthenticated,
    ValidationFailed,
)
from mcpreg.services import releases
from mcpreg.services.configuration import effective, slots
from mcpreg.services.configuration import values as config_values
from mcpreg.services.configuration.effective import MASK, ConfigSecret, ConfigValue
from mcpreg.services.configuration.slots import SecretInfo, VariableInfo
from tests.support.documents import API_KEY, LOG_LEVEL, OPTIONAL_FLAG, REGION, REMOTE_KEY, weather_doc

NAME = "io.github.acme/weather"
RING = KeyRing([("k1", bytes(range(32)))])
ADMIN = Principal(name="alice", scopes=frozenset({"admin"}), token_id=1)
READER = Principal(name="rita", scopes=frozenset({"read"}), token_id=2)
REVEALER = Principal(name="sam", scopes=frozenset({"secrets:read"}), token_id=3)
PUBLISHER = Principal(name="pat", scopes=frozenset({"publish"}), token_id=4)
VARIABLES = (API_KEY, REGION, LOG_LEVEL, OPTIONAL_FLAG)
STAGING_DEPLOYER = Principal(name="dora", scopes=frozenset({"deploy"}), environments=("staging",), token_id=5)


@pytest.fixture
def weather(session: Session) -> Session:
    """Two published releases of the weather server."""
    releases.create_release(session, SYSTEM, weather_doc("1.0.0", variables=VARIABLES, headers=(REMOTE_KEY,)))
    releases.create_release(session, SYSTEM, weather_doc("2.0.0", variables=VARIABLES, headers=(REMOTE_KEY,)))
    session.commit()
    return session


def put_var(session: Session, name: str, value: str, **where: str) -> VariableInfo:
    view = config_values.set_variable(session, ADMIN, NAME, name, value, **where)
    session.commit()
    return view


def put_secret(session: Session, name: str, value: str, **where: str) -> SecretInfo:
    view = config_values.set_secret(session, RING, ADMIN, NAME, name, SecretValue(value), **where)
    session.commit()
    return view


# -- resolution order ------------------------------------------------------------------


def test_environment_beats_release_and_release_beats_server(weather: Session) -> None:
    put_var(weather, "REGION", "server-eu")
    put_var(weather, "REGION", "release-us", version="1.0.0")
    put_var(weather, "REGION", "prod-ap", environment="production")
    put_secret(weather, "API_KEY", "s-server")
    put_secret(weather, "API_KEY", "s-release", version="1.0.0")
    put_secret(weather, "API_KEY", "s-prod", environment="production")

    prod = effective.effective_config(weather, RING, NAME, "1.0.0", "production", reveal=True)
    staging = effective.effective_config(weather, RING, NAME, "1.0.0", "staging", reveal=True)
    other_release = effective.effective_config(weather, RING, NAME, "2.0.0", "staging", reveal=True)
    no_environment = effective.effective_config(weather, RING, NAME, "1.0.0", None, reveal=True)

    assert prod.variables["REGION"] == ConfigValue("prod-ap", "environment")
    assert prod.secrets["API_KEY"] == ConfigSecret("s-prod", "environment", "k1")
    assert staging.variables["REGION"] == ConfigValue("release-us", "release")
    assert staging.secrets["API_KEY"].value == "s-release"
    assert other_release.variables["REGION"] == ConfigValue("server-eu", "server")
    assert other_release.secrets["API_KEY"].value == "s-server"
    assert no_environment.environment is None
    assert no_environment.variables["REGION"].source == "release"


def test_a_declared_default_fills_a_name_nothing_sets_and_a_set_value_replaces_it(weather: Session) -> None:
    before = effective.effective_config(weather, RING, NAME, "1.0.0", "production", reveal=False)
    assert before.variables["LOG_LEVEL"] == ConfigValue("info", "default")
    put_var(weather, "LOG_LEVEL", "debug", environment="production")
    after = effective.effective_config(weather, RING, NAME, "1.0.0", "production", reveal=False)
    assert after.variables["LOG_LEVEL"] == ConfigValue("debug", "environment")
    assert "OPTIONAL_FLAG" not in after.variables


def test_missing_lists_required_declarations_with_no_value_at_any_level(weather: Session) -> None:
    assert effective.effective_config(weather, RING, NAME, "1.0.0", "production", reveal=False).missing == [
        "API_KEY",
        "REGION",
        "X-Api-Key",
    ]
    put_var(weather, "REGION", "eu")
    put_secret(weather, "API_KEY", "k", version="1.0.0")
    put_secret(weather, "X-Api-Key", "h", environment="production")
    assert effective.effective_config(weather, RING, NAME, "1.0.0", "production", reveal=False).missing == []
    assert effective.effective_config(weather, RING, NAME, "2.0.0", "production", reveal=False).missing == [
        "API_KEY"
    ]
    assert effective.effective_config(weather, RING, NAME, "1.0.0", "staging", reveal=False).missing == [
        "X-Api-Key"
    ]


def test_the_effective_config_names_the_canonical_version(weather: Session) -> None:
    result = effective.effective_config(weather, RING, NAME, "1.0.0", "production", reveal=False)
    assert (result.server, result.version, result.environment) == (NAME, "1.0.0", "production")


# -- write-only secrets ----------------------------------------------------------------


def test_listing_secrets_shows_metadata_and_never_the_value_or_its_length(weather: Session) -> None:
    plaintext = "sk-live-very-distinctive-4242"
    put_secret(weather, "API_KEY", plaintext)
    put_secret(weather, "API_KEY", plaintext + "-v2")
    put_secret(weather, "API_KEY", "other", environment="production")
    listed = config_values.list_values(weather, READER, slots.SECRETS, NAME)
    assert [(s.name, s.scope, s.environment) for s in listed] == [
        ("API_KEY", "environment", "production"),
        ("API_KEY", "server", None),
    ]
    server_row = dataclasses.asdict(listed[1])
    assert set(server_row) == {
        "name",
        "scope",
        "version",
        "environment",
        "revision",
        "key_id",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    }
    assert server_row["revision"] == 2
    assert server_row["key_id"] == "k1"
    assert server_row["updated_by"] == "alice"
    text = repr(listed)
    assert plaintext not in text
    assert str(len(plaintext + "-v2")) not in [str(v) for v in server_row.values()]


def test_masked_config_decrypts_nothing_and_shows_the_mask(weather: Session) -> None:
    put_secret(weather, "API_KEY", "hidden-value")
    masked = effective.effective_config(weather, RING, NAME, "1.0.0", None, reveal=False)
    assert masked.secrets["API_KEY"] == ConfigSecret(MASK, "server", "k1")
    # Masked reads need no key: a ring without k1 still answers.
    other_ring = KeyRing([("k9", bytes(range(1, 33)))])
    assert effective.effective_config(weather, other_ring, NAME, "1.0.0", None, reveal=False).secrets


def test_reveal_needs_the_secrets_read_scope(weather: Session) -> None:
    put_secret(weather, "API_KEY", "hidden-value")
    with pytest.raises(PermissionDenied) as denied:
        effective.reveal_config(weather, RING, READER, NAME, "1.0.0", "production", "curious")
    assert denied.value.code == "permission_denied"
    revealed = effective.reveal_config(weather, RING, REVEALER, NAME, "1.0.0", "production", "incident 42")
    assert revealed.secrets["API_KEY"].value == "hidden-value"


def test_a_reveal_is_journaled_with_who_and_why_but_no_value(weather: Session) -> None:
    put_secret(weather, "API_KEY", "hidden-value-123")
    effective.reveal_config(weather, RING, REVEALER, NAME, "1.0.0", "production", "incident 42")
    weather.commit()
    entry = weather.exec(select(JournalEntry).where(JournalEntry.action == "config.reveal")).one()
    assert (entry.actor, entry.reason, entry.server_name, entry.environment) == (
        "sam",
        "incident 42",
        NAME,
        "production",
    )
    dump = repr([(e.before, e.after, e.reason) for e in weather.exec(select(JournalEntry))])
    assert "hidden-value-123" not in dump


def test_deleting_a_secret_removes_it_from_the_config(weather: Session) -> None:
    put_secret(weather, "API_KEY", "v")
    config_values.delete_value(weather, ADMIN, slots.SECRETS, NAME, "API_KEY")
    weather.commit()
    assert effective.effective_config(weather, RING, NAME, "1.0.0", None, reveal=True).secrets == {}
    with pytest.raises(NotFound) as missing:
        config_values.delete_value(weather, ADMIN, slots.SECRETS, NAME, "API_KEY")
    assert missing.value.code == "secret_not_found"


def test_a_variable_round_trips_through_get_list_and_delete(weather: Session) -> None:
    put_var(weather, "REGION", "eu", version="2.0.0")
    got = config_values.get_value(weather, READER, slots.VARIABLES, NAME, "REGION", version="2.0.0")
    assert (got.value, got.scope, got.version, got.revision) == ("eu", "release", "2.0.0", 1)
    listed = config_values.list_values(weather, READER, slots.VARIABLES, NAME, version="2.0.0")
    assert [v.name for v in listed] == ["REGION"]
    assert config_values.list_values(weather, READER, slots.VARIABLES, NAME, version="1.0.0") == []
    config_values.delete_value(weather, ADMIN, slots.VARIABLES, NAME, "REGION", version="2.0.0")
    weather.commit()
    with pytest.raises(NotFound) as missing:
        config_values.get_value(weather, READER, slots.VARIABLES, NAME, "REGION", version="2.0.0")
    assert missing.value.code == "variable_not_found"


# -- tampering -----------------------------------------------------------------------------


def test_a_ciphertext_swapped_between_rows_fails_with_a_clear_error(weather: Session) -> None:
    put_secret(weather, "API_KEY", "first")
    put_secret(weather, "X-Api-Key", "second")
    rows = {r.name: r for r in weather.exec(select(Secret))}
    a, b = rows["API_KEY"], rows["X-Api-Key"]
    weather.execute(sa.update(Secret).where(Secret.id == a.id).values(ciphertext=b.ciphertext))  # type: ignore[arg-type]
    weather.commit()
    with pytest.raises(SecretDecryptFailed) as failed:
        effective.effective_config(weather, RING, NAME, "1.0.0", None, reveal=True)
    assert failed.value.code == "secret_decrypt_failed"
    assert failed.value.field == "API_KEY"
    assert "second" not in repr(failed.value) and "second" not in failed.value.detail


# -- rules on input --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["1ABC", "has space", "BAD-NAME", "dot.ted", "", "A" * 129])
def test_a_name_that_is_not_an_environment_variable_name_is_refused(weather: Session, bad: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        config_values.set_variable(weather, ADMIN, NAME, bad, "x")
    assert (refused.value.code, refused.value.field) == ("invalid_name", "name")


def test_a_header_name_is_accepted_only_when_a_release_declares_it(weather: Session) -> None:
    assert put_secret(weather, "X-Api-Key", "h", version="1.0.0").name == "X-Api-Key"
    with pytest.raises(ValidationFailed):
        config_values.set_secret(weather, RING, ADMIN, NAME, "X-Other-Key", SecretValue("h"))


@pytest.mark.parametrize("bad", [None, 42, ["x"], {"v": 1}, "x" * 65537])
def test_a_value_must_be_a_string_of_bounded_length(weather: Session, bad: object) -> None:
    with pytest.raises(ValidationFailed) as refused:
        config_values.set_variable(weather, ADMIN, NAME, "REGION", bad)
    assert refused.value.field == "value"


@pytest.mark.parametrize("bad", ["Prod", "1prod", "prod_eu", "", "p" * 64, "prod eu"])
def test_an_environment_must_be_a_lowercase_slug(weather: Session, bad: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        config_values.set_variable(weather, ADMIN, NAME, "REGION", "x", environment=bad)
    assert (refused.value.code, refused.value.field) == ("invalid_environment", "environment")


def test_a_version_that_does_not_exist_is_not_found(weather: Session) -> None:
    with pytest.raises(NotFound) as missing:
        config_values.set_variable(weather, ADMIN, NAME, "REGION", "x", version="9.9.9")
    assert (missing.value.code, missing.value.field) == ("version_not_found", "version")
    with pytest.raises(NotFound) as no_server:
        config_values.set_variable(weather, ADMIN, "io.github.acme/none", "REGION", "x")
    assert no_server.value.code == "server_not_found"


def test_version_and_environment_together_are_ambiguous(weather: Session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        config_values.set_variable(
            weather, ADMIN, NAME, "REGION", "x", version="1.0.0", environment="production"
        )
    assert refused.value.code == "ambiguous_scope"


def test_a_name_is_either_a_variable_or_a_secret_of_a_server(weather: Session) -> None:
    put_var(weather, "REGION", "eu")
    with pytest.raises(Conflict) as taken:
        config_values.set_secret(
            weather, RING, ADMIN, NAME, "REGION", SecretValue("x"), environment="production"
        )
    assert taken.value.code == "name_is_variable"


def test_a_name_declared_secret_cannot_be_stored_as_a_plain_variable(weather: Session) -> None:
    with pytest.raises(ValidationFailed) as refused:
        config_values.set_variable(weather, ADMIN, NAME, "API_KEY", "would-be-plaintext")
    assert refused.value.code == "declared_secret"


# -- permissions ---------------------------------------------------------------------------


def test_publishers_configure_servers_and_releases_deployers_their_environments(weather: Session) -> None:
    assert config_values.set_variable(weather, PUBLISHER, NAME, "REGION", "eu").updated_by == "pat"
    with pytest.raises(PermissionDenied):
        config_values.set_variable(weather, PUBLISHER, NAME, "REGION", "eu", environment="production")
    assert config_values.set_variable(weather, STAGING_DEPLOYER, NAME, "REGION", "eu", environment="staging")
    with pytest.raises(PermissionDenied) as denied:
        config_values.set_variable(weather, STAGING_DEPLOYER, NAME, "REGION", "eu", environment="production")
    assert denied.value.code == "environment_denied"
    with pytest.raises(PermissionDenied):
        config_values.set_variable(weather, READER, NAME, "REGION", "eu")


def test_anonymous_callers_cannot_list_configuration(weather: Session) -> None:
    anonymous = Principal(name="anonymous")
    with pytest.raises(Unauthenticated):
        config_values.list_values(weather, anonymous, slots.VARIABLES, NAME)
