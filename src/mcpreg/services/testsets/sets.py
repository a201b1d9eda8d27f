"""Storing test sets: one named set per server, put whole, read, listed and removed.

Putting or removing a set needs the ``publish`` scope over the server (it is release
configuration, like a server's variables); reading one needs ``read`` over it. Each put
that changes the document moves its ``revision`` on, and every change is journaled
(``testset.put``, ``testset.delete``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.tables import Server
from mcpreg.db.testset_tables import TestSetRow
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.domain.testsets import TestSet, check_name, parse_testset
from mcpreg.errors import NotFound
from mcpreg.services import journal
from mcpreg.services.releases import get_server
from mcpreg.services.tokens import require


@dataclass(frozen=True)
class StoredSet:
    """One stored test set and who changed it last."""

    server: str
    name: str
    revision: int
    testset: TestSet
    created_at: datetime
    updated_at: datetime
    updated_by: str


def _stored(row: TestSetRow) -> StoredSet:
    return StoredSet(
        row.server_name,
        row.name,
        row.revision,
        parse_testset(row.name, orjson.loads(row.document)),
        row.created_at,
        row.updated_at,
        row.updated_by,
    )


def _summary(stored: StoredSet) -> dict[str, object]:
    return {"name": stored.name, "revision": stored.revision, "cases": len(stored.testset.cases)}


def _find(session: Session, server: Server, name: str) -> TestSetRow | None:
    return session.exec(
        select(TestSetRow).where(TestSetRow.server_id == server.id, TestSetRow.name == name)
    ).first()


def not_found(server_name: str, name: str) -> NotFound:
    return NotFound(f"{server_name} has no test set {name!r}", field="testset", code="testset_not_found")


def load(session: Session, server_name: str, name: str) -> tuple[int, StoredSet]:
    """The server's id and its set ``name`` (no scope check: for the runner and the gates)."""
    server = get_server(session, server_name)
    row = _find(session, server, check_name(name))
    if row is None:
        raise not_found(server.name, name)
    assert server.id is not None
    return server.id, _stored(row)


def put_testset(
    session: Session, principal: Principal, server_name: str, name: str, body: object
) -> tuple[StoredSet, bool]:
    """Store the set ``name`` of ``server_name`` from its document; True when it is new."""
    require(principal, "publish", server=server_name)
    parsed = parse_testset(name, body)
    server = get_server(session, server_name)
    document = orjson.dumps(parsed.to_dict()).decode()
    now = utcnow()
    row = _find(session, server, name)
    created = row is None
    if row is None:
        assert server.id is not None
        row = TestSetRow(
            server_id=server.id,
            server_name=server.name,
            name=name,
            document=document,
            created_at=now,
            updated_at=now,
            updated_by=principal.name,
        )
        try:
            # Two first puts of one name at once: one inserts, the other updates after it.
            with session.begin_nested():
                session.add(row)
                session.flush()
        except sa.exc.IntegrityError:
            found = _find(session, server, name)
            assert found is not None
            row, created = found, False
    before = None if created else _summary(_stored(row))
    if not created and row.document != document:
        row.document = document
        row.revision += 1
        row.updated_at = now
        row.updated_by = principal.name
        session.add(row)
        session.flush()
    stored = _stored(row)
    journal.record(
        session, principal, "testset.put", server_name=server.name, before=before, after=_summary(stored)
    )
    return stored, created


def get_testset(session: Session, principal: Principal, server_name: str, name: str) -> StoredSet:
    require(principal, "read", server=server_name)
    return load(session, server_name, name)[1]


def list_testsets(session: Session, principal: Principal, server_name: str) -> list[StoredSet]:
    """Every set of the server, by name."""
    require(principal, "read", server=server_name)
    server = get_server(session, server_name)
    rows = session.exec(
        select(TestSetRow).where(TestSetRow.server_id == server.id).order_by(col(TestSetRow.name))
    )
    return [_stored(row) for row in rows]


def delete_testset(session: Session, principal: Principal, server_name: str, name: str) -> None:
    """Remove the set (its runs stay, as history)."""
    require(principal, "publish", server=server_name)
    server = get_server(session, server_name)
    row = _find(session, server, check_name(name))
    if row is None:
        raise not_found(server.name, name)
    before = _summary(_stored(row))
    session.delete(row)
    session.flush()
    journal.record(session, principal, "testset.delete", server_name=server.name, before=before)
