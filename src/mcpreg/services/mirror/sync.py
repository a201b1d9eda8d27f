"""One sync of one upstream: under its lease, page by page, each page one transaction.

* **Lease.** ``mirror:<upstream>`` (``services.leases``) is taken before anything else and
  renewed with every page; a second sync of the same upstream (another replica, another
  request) is refused with ``sync_in_progress``. It is released when the sync ends, however.
* **Incremental.** A completed sync leaves the highest upstream ``updatedAt`` it applied as
  the checkpoint's ``watermark``; the next asks ``updated_since`` = watermark - ``overlap``.
  The official ``updated_since`` is exclusive and an upstream's clock and commit order need
  not agree, so the window before the watermark is read again; entries already stored as
  they are count as unchanged, so nothing at the boundary is lost and nothing is doubled.
  With no watermark (or ``full``) the sync reads everything, deleted entries included.
* **Reconcile.** A full sync is also a listing pass (``reconcile``): when its last page is
  applied, the upstream's mirrored releases it did not list are marked vanished, in that
  page's transaction, so a pass that ends early marks nothing. Besides the first sync and
  ``full``, every ``reconcile_every``-th sync of an upstream is a full one.
* **Resume.** The page's transaction also writes the cursor of the next page; a sync that
  was interrupted (an upstream error, a crash, a stop) resumes at that page with the same
  ``updated_since``, so no page is applied twice and none is skipped.
* **Record.** Every run is a ``sync_run`` row, counted page by page and closed with its
  time and error (a run left ``running`` by a dead replica is closed as interrupted).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import Session, col

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import unit_of_work
from mcpreg.db.mirror_tables import SyncCheckpoint, SyncRun, Upstream
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.errors import Conflict, RegistryError
from mcpreg.services import journal, leases
from mcpreg.services.curation import policy as curation_policy
from mcpreg.services.mirror import reconcile, runs, upstreams
from mcpreg.services.mirror.apply import PageApplier
from mcpreg.services.mirror.pages import PAGE_LIMIT, PageReader
from mcpreg.services.tokens import require

Progress = Callable[[SyncRun], None]
RECONCILE_EVERY = 24


@dataclass(frozen=True)
class SyncOptions:
    holder: str  # who takes the lease: this replica (and request)
    overlap: timedelta = timedelta(seconds=60)
    lease_ttl: timedelta = timedelta(seconds=120)
    page_limit: int = PAGE_LIMIT
    full: bool = False  # read everything again, not only what changed since the watermark
    stopping: Callable[[], bool] | None = None  # asked before each page: end the sync now?
    private_remotes: bool = False  # MCPREG_ALLOW_PRIVATE_REMOTES: http and local remotes are kept
    # A sync not asked to be full is one anyway when this many completed syncs ran since the
    # last complete full one, counting itself (so one in 24); 0: only when asked, or the first.
    reconcile_every: int = RECONCILE_EVERY


def lease_name(upstream_name: str) -> str:
    return f"mirror:{upstream_name}"


def _refuse_busy(name: str) -> Conflict:
    return Conflict(
        f"upstream {name!r} is being synced now; try again when that ends", code="sync_in_progress"
    )


def sync(
    engine: sa.Engine,
    keyring: KeyRing,
    client: httpx.Client,
    principal: Principal,
    name: str,
    options: SyncOptions,
    *,
    progress: Progress | None = None,
) -> runs.RunInfo:
    """Sync ``name`` now and return its run; an upstream failure is recorded on the
    run, then raised (``upstream_failed``)."""
    require(principal, "admin")
    lease = lease_name(name)
    with unit_of_work(engine, write=True) as session:
        upstreams.get(session, name)
        if not leases.try_acquire(session, lease, options.holder, options.lease_ttl):
            raise _refuse_busy(name)
    try:
        return _run(engine, keyring, client, principal, name, options, progress)
    finally:
        with unit_of_work(engine, write=True) as session:
            leases.release(session, lease, options.holder)


def _run(
    engine: sa.Engine,
    keyring: KeyRing,
    client: httpx.Client,
    principal: Principal,
    name: str,
    options: SyncOptions,
    progress: Progress | None,
) -> runs.RunInfo:
    began = time.monotonic()
    with unit_of_work(engine, write=True) as session:
        upstream = upstreams.get(session, name)
        checkpoint = session.get(SyncCheckpoint, upstream.id)
        if checkpoint is None:
            assert upstream.id is not None
            checkpoint = SyncCheckpoint(upstream_id=upstream.id)
        resumed = checkpoint.cursor is not None and not options.full
        if resumed:
            since, cursor, high = checkpoint.since, checkpoint.cursor, checkpoint.high
        else:
            full = options.full or _reconcile_due(session, upstream.id, options.reconcile_every)
            watermark = None if full else checkpoint.watermark
            since, cursor, high = (watermark - options.overlap if watermark else None), None, None
        run = runs.start(
            session,
            upstream,
            kind="full" if since is None else "incremental",
            resumed=resumed,
            since=since,
            actor=principal.name,
        )
        checkpoint.run_id, checkpoint.since, checkpoint.cursor, checkpoint.high = run.id, since, cursor, high
        if not resumed:  # a resumed full pass goes on with the pass it continues
            checkpoint.full_pass = run.id if since is None else None
        full_pass = checkpoint.full_pass if since is None else None
        checkpoint.updated_at = utcnow()
        session.add(checkpoint)
        token = upstreams.token_of(keyring, upstream)
        applier = PageApplier(
            upstream,
            upstreams.coverage(upstream),
            curation_policy(session, upstream.name),
            run_id=run.id or 0,
            actor=f"mirror:{name}",
            thorough=since is None,  # a full sync compares every stored document
            private_remotes=options.private_remotes,
            full_pass=full_pass,
        )
        reader = PageReader(client, upstream.base_url, token=token, limit=options.page_limit)
    # The next page is read while this one is applied (its cursor is known once it is read);
    # a sync that ends early drops the page read ahead, which the next one reads again.
    ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mirror-{name}")
    try:
        coming = ahead.submit(reader.read, cursor, since)
        while True:
            if options.stopping is not None and options.stopping():
                raise Stopped("the replica is stopping")
            page = coming.result()
            if page.next_cursor is not None:
                coming = ahead.submit(reader.read, page.next_cursor, since)
            with unit_of_work(engine, write=True) as session:
                if session.get_bind().dialect.name == "postgresql":
                    # A page lost in a crash is read again: its checkpoint is lost with it.
                    session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
                if not leases.renew(session, lease_name(name), options.holder, options.lease_ttl):
                    raise _refuse_busy(name)
                result = applier.apply(session, page.entries)
                checkpoint = session.get(SyncCheckpoint, applier.upstream_id)
                assert checkpoint is not None
                if result.high is not None and (high is None or result.high > high):
                    high = result.high
                cursor = page.next_cursor
                checkpoint.cursor, checkpoint.high, checkpoint.updated_at = cursor, high, utcnow()
                live = session.get(SyncRun, run.id)
                assert live is not None
                runs.count(live, result, time.monotonic() - began)
                if cursor is None and full_pass is not None:
                    live.vanished = _reconcile(session, applier, name, full_pass, live)
                if cursor is None:
                    if high is not None and (checkpoint.watermark is None or high > checkpoint.watermark):
                        checkpoint.watermark = high
                    runs.finish(live, time.monotonic() - began)
                session.add_all([checkpoint, live])
            run = live
            if progress is not None:
                progress(run)
            if cursor is None:
                return runs.RunInfo.of(run)
    except BaseException as error:
        if isinstance(error, RegistryError):
            reason = f"{error.code}: {error.detail}"
        elif isinstance(error, Stopped):
            reason = "interrupted: the replica stopped; the next sync resumes at the next page"
        else:
            reason = f"interrupted: {type(error).__name__}"
        with unit_of_work(engine, write=True) as session:
            live = session.get(SyncRun, run.id)
            if live is not None:
                runs.finish(live, time.monotonic() - began, reason)
                session.add(live)
        raise
    finally:
        ahead.shutdown(wait=True, cancel_futures=True)


def _reconcile_due(session: Session, upstream_id: int | None, every: int) -> bool:
    """Whether ``every - 1`` syncs completed since the upstream's last complete full one."""
    if every <= 0:
        return False
    last_full = (
        sa.select(sa.func.coalesce(sa.func.max(col(SyncRun.id)), 0))
        .where(
            col(SyncRun.upstream_id) == upstream_id,
            col(SyncRun.kind) == "full",
            col(SyncRun.state) == runs.OK,
        )
        .scalar_subquery()
    )
    since_full = session.execute(
        sa.select(sa.func.count())
        .select_from(SyncRun)
        .where(
            col(SyncRun.upstream_id) == upstream_id,
            col(SyncRun.state) == runs.OK,
            col(SyncRun.id) > last_full,
        )
    ).scalar_one()
    return bool(since_full >= every - 1)


def _reconcile(session: Session, applier: PageApplier, name: str, full_pass: int, run: SyncRun) -> int:
    """The last page of a full pass is applied: mark what it did not list as vanished."""
    gone = reconcile.vanish(
        session,
        applier.upstream_id,
        name,
        full_pass,
        run_id=run.id or 0,
        actor=f"mirror:{name}",
        now=utcnow(),
    )
    if gone:
        journal.record(
            session, f"mirror:{name}", "mirror.vanish", after={"run": run.id, "vanished": len(gone)}
        )
    return len(gone)


class Stopped(Exception):
    """The replica is stopping: the sync ends after the page it applied last."""


def holder(role: str) -> str:
    """A lease holder unique to one sync attempt on this replica."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


def upstream_client() -> httpx.Client:
    """The HTTP client of one sync: one connection pool for its pages, closed when it ends."""
    return httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=False)


def due(session: Session, now: datetime | None = None) -> list[str]:
    """The upstreams whose interval has passed since their last run began, or since they
    were declared (the first sync is ``mirror sync``'s, or comes one interval later)."""
    now = now or utcnow()
    last = (
        sa.select(col(SyncRun.upstream_id), sa.func.max(SyncRun.started_at).label("at"))
        .group_by(col(SyncRun.upstream_id))
        .subquery()
    )
    rows = session.execute(
        sa.select(col(Upstream.name), col(Upstream.interval_seconds), col(Upstream.created_at), last.c.at)
        .outerjoin(last, last.c.upstream_id == col(Upstream.id))
        .order_by(col(Upstream.name))
    ).all()
    return [
        name
        for name, interval, created, at in rows
        if _aware(at or created) + timedelta(seconds=interval) <= now
    ]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def sync_due(
    engine: sa.Engine,
    keyring: KeyRing,
    *,
    overlap: timedelta,
    stopping: Callable[[], bool],
    on_failure: Callable[[str, RegistryError], None],
    page_limit: int = PAGE_LIMIT,
    private_remotes: bool = False,
) -> int:
    """One background pass: sync each due upstream this replica can take the lease of.

    An upstream another replica is syncing is left to it; one that fails is recorded on
    its run and reported to ``on_failure``, and the pass goes on to the next. Returns how
    many syncs ran to the end.
    """
    with unit_of_work(engine) as session:
        names = due(session)
    finished = 0
    for name in names:
        if stopping():
            break
        options = SyncOptions(
            holder=holder("background"),
            overlap=overlap,
            stopping=stopping,
            page_limit=page_limit,
            private_remotes=private_remotes,
        )
        try:
            with upstream_client() as client:
                sync(engine, keyring, client, SYSTEM, name, options)
        except Stopped:
            break
        except RegistryError as error:
            if error.code != "sync_in_progress":
                on_failure(name, error)
            continue
        finished += 1
    return finished
