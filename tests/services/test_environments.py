"""Environments as services: defaults, promotion order, flags and who may deploy where."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from mcpreg.db.deploy_tables import Environment
from mcpreg.db.tables import JournalEntry
from mcpreg.domain.principal import Principal
from mcpreg.errors import RegistryError
from mcpreg.services import environments

ADMIN = Principal(name="alice", scopes=frozenset({"admin"}), token_id=1)
DEPLOYER = Principal(name="dan", scopes=frozenset({"deploy"}), token_id=2)
PUBLISHER = Principal(name="pat", scopes=frozenset({"publish"}), token_id=3)
STAGING_ONLY = Principal(name="sue", scopes=frozenset({"deploy"}), environments=("staging",), token_id=4)
NAME = "io.github.acme/weather"


def names(session: Session) -> list[str]:
    return [e.name for e in environments.list_environments(session)]


def refused(session: Session, code: str, call: object, *args: object, **kwargs: object) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    session.rollback()
    assert caught.value.code == code, caught.value
    return caught.value


def test_the_first_start_creates_dev_staging_production_with_their_defaults(session: Session) -> None:
    environments.ensure_default_environments(session)
    session.commit()
    envs = environments.list_environments(session)
    assert [(e.name, e.position) for e in envs] == [("dev", 0), ("staging", 1), ("production", 2)]
    flags = {e.name: (e.protected, e.requires_approval, e.allow_prereleases) for e in envs}
    assert flags == {
        "dev": (False, False, True),
        "staging": (False, False, True),
        "production": (True, False, False),
    }


def test_seeding_again_changes_nothing_an_operator_set(session: Session) -> None:
    environments.ensure_default_environments(session)
    environments.update_environment(session, ADMIN, "production", {"requiresApproval": True})
    session.commit()
    environments.ensure_default_environments(session)
    session.commit()
    assert names(session) == ["dev", "staging", "production"]
    assert environments.get_environment(session, "production").requires_approval


def test_a_new_environment_goes_where_asked_and_the_others_shift(session: Session) -> None:
    environments.ensure_default_environments(session)
    environments.create_environment(session, ADMIN, {"name": "qa", "position": 1, "requiresApproval": True})
    environments.create_environment(session, ADMIN, {"name": "canary-eu"})
    session.commit()
    assert names(session) == ["dev", "qa", "staging", "production", "canary-eu"]
    positions = [e.position for e in session.exec(select(Environment).order_by(Environment.position))]  # type: ignore[arg-type]
    assert positions == [0, 1, 2, 3, 4]
    environments.update_environment(session, ADMIN, "canary-eu", {"position": 3})
    session.commit()
    assert names(session) == ["dev", "qa", "staging", "canary-eu", "production"]
    actions = list(
        session.exec(select(JournalEntry.action).where(JournalEntry.action.startswith("environment.")))
    )  # type: ignore[attr-defined]
    assert actions.count("environment.create") == 2
    assert "environment.update" in actions


def test_environment_rules_are_refused_with_their_field(session: Session) -> None:
    environments.ensure_default_environments(session)
    session.commit()
    create = environments.create_environment
    assert (
        refused(session, "invalid_environment_name", create, session, ADMIN, {"name": "Prod!"}).field
        == "name"
    )
    assert refused(session, "environment_exists", create, session, ADMIN, {"name": "dev"}).field == "name"
    assert refused(
        session, "validation_failed", create, session, ADMIN, {"name": "qa", "position": 9}
    ).field == ("position")
    bad_flag = {"name": "qa", "protected": "yes"}
    assert refused(session, "validation_failed", create, session, ADMIN, bad_flag).field == "protected"
    assert (
        refused(session, "unknown_field", create, session, ADMIN, {"name": "qa", "colour": 1}).field
        == "colour"
    )
    update = environments.update_environment
    assert (
        refused(session, "immutable_name", update, session, ADMIN, "dev", {"name": "develop"}).field == "name"
    )
    assert refused(session, "environment_not_found", update, session, ADMIN, "nope", {"protected": True})
    assert refused(session, "no_changes", update, session, ADMIN, "dev", {"protected": False})
    assert refused(session, "permission_denied", create, session, DEPLOYER, {"name": "qa"})


def test_a_protected_environment_needs_the_deploy_scope_on_it(session: Session) -> None:
    environments.ensure_default_environments(session)
    session.commit()
    dev = environments.get_environment(session, "dev")
    production = environments.get_environment(session, "production")
    staging = environments.get_environment(session, "staging")
    environments.require_deploy(PUBLISHER, dev, NAME)  # unprotected: publishers may deploy
    environments.require_deploy(DEPLOYER, production, NAME)
    with pytest.raises(RegistryError) as caught:
        environments.require_deploy(PUBLISHER, production, NAME)
    assert caught.value.code == "environment_protected"
    with pytest.raises(RegistryError) as caught:
        environments.require_deploy(STAGING_ONLY, production, NAME)
    assert caught.value.code == "environment_denied"
    environments.require_deploy(STAGING_ONLY, staging, NAME)
    with pytest.raises(RegistryError) as caught:
        environments.require_deploy(STAGING_ONLY, dev, NAME)
    assert caught.value.code == "environment_denied"
