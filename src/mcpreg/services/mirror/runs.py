"""Sync runs: the record of every sync (started, counted page by page, ended), read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.mirror_tables import RefusedEntry, SyncRun, Upstream
from mcpreg.db.types import utcnow
from mcpreg.services.mirror.apply import PageResult

RUNNING, OK, FAILED = "running", "ok", "failed"
MAX_RUNS = 100


def start(
    session: Session, upstream: Upstream, *, kind: str, resumed: bool, since: Any, actor: str
) -> SyncRun:
    """A new run, after closing any run of this upstream left ``running`` by a replica that
    died (the caller holds the upstream's lease, so no other run is live)."""
    session.execute(
        sa.update(SyncRun)
        .where(col(SyncRun.upstream_id) == upstream.id, col(SyncRun.state) == RUNNING)
        .values(state=FAILED, error="interrupted: the replica running it stopped", finished_at=utcnow())
    )
    assert upstream.id is not None
    run = SyncRun(
        upstream_id=upstream.id, kind=kind, state=RUNNING, resumed=resumed, since=since, started_by=actor
    )
    session.add(run)
    session.flush()
    return run


def count(run: SyncRun, result: PageResult, seconds: float) -> None:
    run.pages += 1
    run.added += result.added
    run.updated += result.updated
    run.unchanged += result.unchanged
    run.refused += result.refused
    run.skipped += result.skipped
    run.seconds = seconds


def finish(run: SyncRun, seconds: float, error: str | None = None) -> None:
    run.state = FAILED if error else OK
    run.error = error
    run.seconds = seconds
    run.finished_at = utcnow()


def runs_of(session: Session, upstream: Upstream, *, limit: int = 20) -> list[SyncRun]:
    """The upstream's runs, newest first."""
    return list(
        session.exec(
            select(SyncRun)
            .where(SyncRun.upstream_id == upstream.id)
            .order_by(col(SyncRun.id).desc())
            .limit(max(1, min(limit, MAX_RUNS)))
        )
    )


def refusals_of(session: Session, run: SyncRun, *, limit: int = 50) -> list[RefusedEntry]:
    return list(
        session.exec(
            select(RefusedEntry)
            .where(RefusedEntry.run_id == run.id)
            .order_by(col(RefusedEntry.id))
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Refused:
    """An upstream entry a run refused, and why."""

    name: str
    version: str
    reason: str


@dataclass(frozen=True)
class RunInfo:
    """A sync run as shown: its counts, its seconds to the millisecond, and (when asked for)
    the entries it refused."""

    id: int
    kind: str
    state: str
    resumed: bool
    updated_since: datetime | None
    pages: int
    added: int
    updated: int
    unchanged: int
    refused: int
    skipped: int
    vanished: int
    seconds: float
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    started_by: str
    refused_entries: list[Refused] | None = None

    @classmethod
    def of(cls, run: SyncRun, refused: list[RefusedEntry] | None = None) -> RunInfo:
        return cls(
            id=run.id or 0,
            kind=run.kind,
            state=run.state,
            resumed=run.resumed,
            updated_since=run.since,
            pages=run.pages,
            added=run.added,
            updated=run.updated,
            unchanged=run.unchanged,
            refused=run.refused,
            skipped=run.skipped,
            vanished=run.vanished,
            seconds=round(run.seconds, 3),
            error=run.error,
            started_at=run.started_at,
            finished_at=run.finished_at,
            started_by=run.started_by,
            refused_entries=None
            if refused is None
            else [Refused(r.server_name, r.version, r.reason) for r in refused],
        )
