"""The change generations every replica's caches watch."""

from __future__ import annotations

from sqlmodel import Session

from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import journal, releases
from mcpreg.services.deploy.deployments import deploy
from mcpreg.services.environments import ensure_default_environments
from tests.conftest import server_doc


def test_a_publish_moves_both_generations_and_a_deployment_only_the_first(session: Session) -> None:
    ensure_default_environments(session)
    session.commit()
    start = journal.current_generations(session)
    releases.create_release(session, SYSTEM, server_doc(version="1.0.0"))
    session.commit()
    assert journal.catalogue_changed(session)
    published = journal.current_generations(session)
    assert published[0] > start[0] and published[1] > start[1]
    with Session(session.get_bind(), expire_on_commit=False) as other:
        deploy(other, SYSTEM, "dev", parse_deploy({"server": "io.github.acme/weather", "version": "1.0.0"}))
        other.commit()
        assert not journal.catalogue_changed(other)
    session.rollback()  # a fresh read: SQLite keeps the snapshot of an open transaction
    deployed = journal.current_generations(session)
    assert deployed[0] > published[0] and deployed[1] == published[1]


def test_actions_outside_the_catalogue_are_named_and_anything_else_counts_as_catalogue() -> None:
    outside = ("deploy.rollback", "environment.update", "secret.set", "token.revoke", "config.reveal")
    assert not any(journal.touches_catalogue(a) for a in outside)
    assert all(
        journal.touches_catalogue(a) for a in ("release.publish", "channel.set", "import", "new.thing")
    )
