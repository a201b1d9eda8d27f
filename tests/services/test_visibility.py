"""Environment-wide listings filtered by the servers a token covers, across many batches."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from mcpreg.services import visibility
from mcpreg.services.deploy import deployments
from mcpreg.services.deploy import events as deploy_history
from mcpreg.services.environments import get_environment
from tests.support.deploys import ALICE, T0, ok, prepare, request

MINE = "io.github.acme/weather"
THEIRS = "io.github.other/tool"


@pytest.fixture
def db(session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    monkeypatch.setattr(visibility, "BATCH", 2)
    prepare(session, name=MINE)
    prepare(session, name=THEIRS)
    order = [(MINE, "1.0.0"), (THEIRS, "1.0.0"), (THEIRS, "1.1.0"), (MINE, "1.1.0")]
    order += [(THEIRS, v) for v in ("1.2.0", "1.0.0", "1.1.0", "1.2.0", "1.0.0")]
    for name, version in order:
        ok(session, deployments.deploy, ALICE, "dev", request(version, server=name), now=T0)
    return session


def mine(name: str) -> bool:
    return name.startswith("io.github.acme/")


def test_the_history_pages_through_other_namespaces_records_to_fill_a_page(db: Session) -> None:
    env = get_environment(db, "dev")
    first = deploy_history.history(db, env, limit=1, visible=mine)
    assert [(e.server, e.version) for e in first.events] == [(MINE, "1.1.0")]
    assert first.next_cursor is not None
    second = deploy_history.history(db, env, limit=5, cursor=first.next_cursor, visible=mine)
    assert [(e.server, e.version) for e in second.events] == [(MINE, "1.0.0")]
    assert second.next_cursor is None
    assert len(deploy_history.history(db, env, limit=100).events) == 9


def test_deployment_requests_are_filtered_the_same_way(db: Session) -> None:
    listed = deployments.list_deployments(db, "dev", limit=10, visible=mine)
    assert [(d.server_name, d.version) for d in listed] == [(MINE, "1.1.0"), (MINE, "1.0.0")]
    assert deployments.list_deployments(db, "dev", limit=10, visible=lambda _name: False) == []
