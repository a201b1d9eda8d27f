"""The change journal: an append-only record of every change, and paging through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.tables import JournalEntry, Meta
from mcpreg.domain.principal import Principal
from mcpreg.errors import ValidationFailed

GENERATION_KEY = "generation"


def _dump(value: Any) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


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
    bump_generation(session)
    return entry


def bump_generation(session: Session) -> None:
    updated = session.execute(
        sa.update(Meta)
        .where(col(Meta.key) == GENERATION_KEY)
        .values(value=sa.cast(sa.cast(Meta.value, sa.Integer) + 1, sa.Text))
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(Meta(key=GENERATION_KEY, value="1"))
        session.flush()


def current_generation(session: Session) -> int:
    value = session.execute(select(Meta.value).where(Meta.key == GENERATION_KEY)).scalar_one_or_none()
    return int(value) if value is not None else 0


@dataclass(frozen=True)
class JournalPage:
    entries: list[dict[str, Any]]
    next_cursor: str | None


def entry_view(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat().replace("+00:00", "Z"),
        "actor": entry.actor,
        "action": entry.action,
        "server": entry.server_name,
        "version": entry.version,
        "environment": entry.environment,
        "before": orjson.loads(entry.before) if entry.before else None,
        "after": orjson.loads(entry.after) if entry.after else None,
        "reason": entry.reason,
    }


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
        if not cursor.isdigit():
            raise ValidationFailed("cursor must be the value of a previous nextCursor", field="cursor")
        query = query.where(col(JournalEntry.id) < int(cursor))
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
    return JournalPage([entry_view(r) for r in rows], str(rows[-1].id) if more and rows else None)
