"""The change journal: an append-only record of every change, and paging through it."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from pydantic.alias_generators import to_camel
from sqlmodel import Session, col, select

from mcpreg.db.tables import JournalEntry, Meta
from mcpreg.domain.principal import Principal
from mcpreg.domain.storable import id_cursor
from mcpreg.domain.timestamps import rfc3339

GENERATION_KEY = "generation"
_META: sa.Table = Meta.__table__  # type: ignore[attr-defined]
CATALOGUE_KEY = "catalogue_generation"
CHANGES = "mcpreg_changes"  # session.info key: what this transaction changed
# session.info key: the server of each catalogue change this transaction recorded, in order
# (None for one that names no server), so caches can drop just those servers' answers.
CATALOGUE_SERVERS = "mcpreg_catalogue_servers"

# Changes that cannot alter the public catalogue (what the official API answers anyone):
# deployments, environments, configuration and tokens. Every other action, known or new,
# counts as a catalogue change too.
_OUTSIDE_CATALOGUE = (
    "deploy.",
    "environment.",
    "variable.",
    "secret.",
    "secrets.",
    "config.",
    "token.",
    "rate_limit.",
    "health.",
    "testset.",
    "alert.",
)


_camel = functools.cache(to_camel)  # a field name's key, worked out once


def snapshot(value: Any) -> Any:
    """A service's typed result as the journal keeps it: the keys of its public answer.

    A dataclass becomes an object of camelCase keys (``created_at`` -> ``createdAt``, the
    rule the ``/api`` models alias by), times RFC 3339, tuples lists; other values as given.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_camel(f.name): snapshot(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [snapshot(v) for v in value]
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return rfc3339(value)
    return value


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(snapshot(value), option=orjson.OPT_SORT_KEYS).decode()


def record(
    session: Session,
    actor: Principal | str,
    action: str,
    *,
    server_name: str | None = None,
    version: str | None = None,
    environment: str | None = None,
    before: Any = None,
    after: Any = None,
    reason: str | None = None,
) -> JournalEntry:
    """Append one entry and bump the change generation (read caches watch it)."""
    entry = JournalEntry(
        actor=actor if isinstance(actor, str) else actor.name,
        action=action,
        server_name=server_name,
        version=version,
        environment=environment,
        before=_dump(before),
        after=_dump(after),
        reason=reason,
    )
    session.add(entry)
    if touches_catalogue(action):
        session.info.setdefault(CATALOGUE_SERVERS, []).append(server_name)
    bump_generation(session, catalogue=touches_catalogue(action))
    return entry


def touches_catalogue(action: str) -> bool:
    return not action.startswith(_OUTSIDE_CATALOGUE)


def bump_generation(session: Session, *, catalogue: bool = True) -> None:
    """Move the change generation (and the catalogue's, for a catalogue change).

    ``session.info[CHANGES]`` records which, so the request that commits can drop just
    what its change affects from this replica's caches.
    """
    keys = (GENERATION_KEY, CATALOGUE_KEY) if catalogue else (GENERATION_KEY,)
    updated = session.execute(  # Core: one statement, no ORM synchronisation to work out
        sa.update(_META)
        .where(_META.c.key.in_(keys))
        .values(value=sa.cast(sa.cast(_META.c.value, sa.Integer) + 1, sa.Text))
    )
    if updated.rowcount != len(keys):  # type: ignore[attr-defined]
        present = set(session.execute(select(Meta.key).where(col(Meta.key).in_(keys))).scalars())
        for key in keys:
            if key not in present:
                session.add(Meta(key=key, value="1"))
        session.flush()
    session.info.setdefault(CHANGES, set()).add("catalogue" if catalogue else "other")


def current_generation(session: Session) -> int:
    value = session.execute(select(Meta.value).where(Meta.key == GENERATION_KEY)).scalar_one_or_none()
    return int(value) if value is not None else 0


def current_generations(session: Session) -> tuple[int, int]:
    """(every change, catalogue changes): what each replica's caches watch."""
    rows = session.execute(
        select(Meta.key, Meta.value).where(col(Meta.key).in_((GENERATION_KEY, CATALOGUE_KEY)))
    ).all()
    values = {key: int(value) for key, value in rows}
    return values.get(GENERATION_KEY, 0), values.get(CATALOGUE_KEY, 0)


def changed(session: Session) -> bool:
    """Whether this transaction recorded a change (and so moved the generations)."""
    return bool(session.info.get(CHANGES))


def catalogue_servers(session: Session) -> list[str | None]:
    """The server of each catalogue change this transaction recorded (``CATALOGUE_SERVERS``)."""
    return list(session.info.get(CATALOGUE_SERVERS, ()))


def catalogue_changed(session: Session) -> bool:
    """Whether this transaction changed the catalogue, or changed something unrecorded."""
    changes: set[str] = session.info.get(CHANGES, set())
    return not changes or "catalogue" in changes


@dataclass(frozen=True)
class Entry:
    """One journal entry as read back: ``before`` and ``after`` are the snapshots it keeps."""

    id: int
    at: datetime
    actor: str
    action: str
    server: str | None
    version: str | None
    environment: str | None
    before: Any
    after: Any
    reason: str | None

    @classmethod
    def of(cls, row: JournalEntry) -> Entry:
        return cls(
            id=row.id or 0,
            at=row.at,
            actor=row.actor,
            action=row.action,
            server=row.server_name,
            version=row.version,
            environment=row.environment,
            before=orjson.loads(row.before) if row.before else None,
            after=orjson.loads(row.after) if row.after else None,
            reason=row.reason,
        )


@dataclass(frozen=True)
class JournalPage:
    entries: list[Entry]
    next_cursor: str | None


def page(
    session: Session,
    *,
    cursor: str | None = None,
    limit: int = 50,
    server_name: str | None = None,
    environment: str | None = None,
    action_prefix: str | None = None,
    since: datetime | None = None,
) -> JournalPage:
    """Entries newest first; the cursor is the id to continue below."""
    query = select(JournalEntry).order_by(col(JournalEntry.id).desc())
    if cursor:
        query = query.where(col(JournalEntry.id) < id_cursor(cursor))
    if server_name is not None:
        query = query.where(JournalEntry.server_name == server_name)
    if environment is not None:
        query = query.where(JournalEntry.environment == environment)
    if action_prefix is not None:
        query = query.where(col(JournalEntry.action).startswith(action_prefix))
    if since is not None:
        query = query.where(JournalEntry.at >= since)
    rows = list(session.exec(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return JournalPage([Entry.of(r) for r in rows], str(rows[-1].id) if more and rows else None)
