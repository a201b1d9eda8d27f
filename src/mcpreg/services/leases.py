"""Named database leases: one holder at a time for a piece of background work.

A lease is a row (name, holder, expires_at). Taking it is one conditional UPDATE (it is
free, expired, or already ours), else one INSERT inside a savepoint for a lease never
taken before; the unique name settles two replicas inserting at once. Both run on SQLite
and PostgreSQL with no lock held past the statement, so a caller commits right after.
A holder that dies simply lets its lease expire; one that stops cleanly ``release``s it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

from mcpreg.db.lease_tables import Lease
from mcpreg.db.types import utcnow

_LEASE: sa.Table = SQLModel.metadata.tables["lease"]


def _rows(session: Session, statement: sa.Update) -> int:
    """How many rows an UPDATE matched."""
    result = session.connection().execute(statement)
    return result.rowcount


def try_acquire(
    session: Session, name: str, holder: str, ttl: timedelta, *, now: datetime | None = None
) -> bool:
    """Take (or extend) ``name`` for ``holder`` until now + ``ttl``; False when another holds it."""
    now = now or utcnow()
    expires = now + ttl
    taken = _rows(
        session,
        sa.update(_LEASE)
        .where(
            _LEASE.c.name == name,
            sa.or_(_LEASE.c.holder == holder, _LEASE.c.expires_at <= now),
        )
        .values(holder=holder, expires_at=expires),
    )
    if taken == 1:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.execute(sa.insert(_LEASE).values(name=name, holder=holder, expires_at=expires))
    except sa.exc.IntegrityError:
        return False
    return True


def renew(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Extend a lease ``holder`` still holds; False when it was lost (expired and taken)."""
    now = utcnow()
    kept = _rows(
        session,
        sa.update(_LEASE)
        .where(_LEASE.c.name == name, _LEASE.c.holder == holder)
        .values(expires_at=now + ttl),
    )
    return kept == 1


def release(session: Session, name: str, holder: str) -> None:
    """Give a lease up at once (a clean stop), so another replica need not wait for expiry."""
    session.execute(sa.delete(_LEASE).where(col(Lease.name) == name, col(Lease.holder) == holder))


def holder_of(session: Session, name: str, *, now: datetime | None = None) -> str | None:
    """Who holds ``name`` now, or None when nobody does."""
    row = session.get(Lease, name)
    if row is None or row.expires_at <= (now or utcnow()):
        return None
    return row.holder
