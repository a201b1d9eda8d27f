"""What the curation tests share: an admin, a declared fake upstream and its sync, one unit
of work per act, and the curation entries of the journal."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import JournalEntry
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.services.mirror import sync, upstreams
from mcpreg.services.mirror.runs import RunInfo
from tests.support.upstream_registry import BASE, FakeUpstream

RING = KeyRing([("k1", bytes(range(32)))])
ADMIN = Principal(name="curator", scopes=frozenset({"admin"}), token_id=1)


def declare(engine: sa.Engine, name: str = "public", **body: Any) -> None:
    with unit_of_work(engine, write=True) as session:
        _, given = upstreams.parse_input({"name": name, "url": BASE, **body}, creating=True)
        upstreams.create(session, RING, SYSTEM, name, given)


def run_sync(engine: sa.Engine, fake: FakeUpstream, name: str = "public") -> RunInfo:
    with fake.client() as client:
        return sync.sync(engine, RING, client, SYSTEM, name, sync.SyncOptions(holder="r1", page_limit=4))


def act(engine: sa.Engine, work: Any) -> Any:
    """``work(session)`` in one committed unit of work, as a request runs it."""
    with unit_of_work(engine, write=True) as session:
        return work(session)


def actions(session: Session, prefix: str = "curation.") -> list[str]:
    query = select(JournalEntry.action).where(col(JournalEntry.action).startswith(prefix))
    return list(session.exec(query.order_by(col(JournalEntry.id))))
