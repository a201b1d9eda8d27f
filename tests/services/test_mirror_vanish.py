"""Reconciliation, on SQLite and PostgreSQL: a full sync marks what the upstream stopped
listing (with no ``deleted`` status) as vanished and deleted here, counts and journals it,
gives it back its upstream status when it is listed again, decides nothing when it ends
early or lists none of the mirror, and never touches a local status, another upstream's
releases or local ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.engine import unit_of_work
from mcpreg.db.mirror_tables import MirroredRelease
from mcpreg.db.tables import JournalEntry, Release
from mcpreg.domain.principal import SYSTEM
from mcpreg.errors import RegistryError
from mcpreg.services import discovery, releases
from mcpreg.services.curation import pins, rules
from mcpreg.services.curation.withholding import WITHHELD
from mcpreg.services.mirror import sync, upstreams
from mcpreg.services.mirror.reconcile import VANISHED
from mcpreg.services.mirror.runs import RunInfo
from mcpreg.services.releases import create_release
from tests.conftest import server_doc
from tests.support.curation import ADMIN, RING, act, declare
from tests.support.upstream_registry import FakeUpstream

TOOL = "io.github.acme/tool-1"


def seeded(count: int = 6, namespace: str = "io.github.acme") -> FakeUpstream:
    fake = FakeUpstream()
    for i in range(count):
        fake.add(server_doc(f"{namespace}/tool-{i % 3}", f"1.{i}.0"))
    return fake


def run_sync(engine: sa.Engine, fake: FakeUpstream, name: str = "public", **options: Any) -> RunInfo:
    """A sync with pages of two and no overlap (the fake's clock moves a second a change)."""
    given = sync.SyncOptions(holder="r1", page_limit=2, overlap=timedelta(0), **options)
    with fake.client() as client:
        return sync.sync(engine, RING, client, SYSTEM, name, given)


def release(session: Session, name: str, version: str) -> Release:
    found = session.exec(select(Release).where(Release.server_name == name, Release.version == version))
    return found.one()


def mirrored(session: Session, name: str, version: str) -> MirroredRelease:
    row = session.get(MirroredRelease, release(session, name, version).id)
    assert row is not None
    return row


def journaled(session: Session, action: str) -> list[tuple[str | None, str | None]]:
    query = select(JournalEntry.server_name, JournalEntry.version).where(JournalEntry.action == action)
    return list(session.exec(query.order_by(col(JournalEntry.id))))


def test_a_full_sync_marks_an_entry_the_upstream_dropped_as_vanished_and_counts_it(engine: sa.Engine) -> None:
    fake = seeded()
    declare(engine)
    run_sync(engine, fake)
    fake.drop(TOOL, "1.4.0")  # tool-1's latest, gone without a deleted status
    assert run_sync(engine, fake).vanished == 0  # an incremental sync cannot see it
    run = run_sync(engine, fake, full=True)
    assert (run.kind, run.state, run.vanished, run.updated) == ("full", "ok", 1, 0)
    with Session(engine) as session:
        gone = release(session, TOOL, "1.4.0")
        assert gone.status == "deleted" and (gone.status_message or "").startswith(f"{VANISHED}: public")
        upstream_view = mirrored(session, TOOL, "1.4.0")
        assert upstream_view.upstream_status == "deleted" and upstream_view.vanished_at is not None
        assert release(session, TOOL, "1.1.0").status == "active"
        latest = discovery.latest_release(session, TOOL)
        assert latest is not None and latest.version == "1.1.0"
        assert journaled(session, "release.mirror.vanish") == [(TOOL, "1.4.0")]
        assert len(journaled(session, "mirror.vanish")) == 1
    assert run_sync(engine, fake, full=True).vanished == 0  # counted once, when it vanished


def test_a_vanished_entry_listed_again_gets_its_upstream_status_back(engine: sa.Engine) -> None:
    fake = seeded()
    fake.set_status(TOOL, "1.1.0", "deprecated", "use 1.4.0")
    declare(engine)
    run_sync(engine, fake)
    dropped = [fake.drop(TOOL, "1.1.0"), fake.drop(TOOL, "1.4.0")]
    assert run_sync(engine, fake, full=True).vanished == 2
    fake.restore(dropped[0])  # re-published: an incremental sync sees it
    fake.restore(dropped[1], touch=False)  # back as it was: only a full sync reads it
    assert (run_sync(engine, fake).updated, run_sync(engine, fake, full=True).updated) == (1, 1)
    with Session(engine) as session:
        again = release(session, TOOL, "1.1.0")
        assert (again.status, again.status_message) == ("deprecated", "use 1.4.0")
        assert release(session, TOOL, "1.4.0").status == "active"
        assert all(mirrored(session, TOOL, v).vanished_at is None for v in ("1.1.0", "1.4.0"))
        latest = discovery.latest_release(session, TOOL)
        assert latest is not None and latest.version == "1.4.0"
        assert journaled(session, "release.mirror.reappear") == [(TOOL, "1.1.0"), (TOOL, "1.4.0")]


def test_an_interrupted_full_pass_marks_nothing_and_the_resumed_pass_decides(engine: sa.Engine) -> None:
    fake = seeded()
    declare(engine)
    run_sync(engine, fake)
    fake.drop("io.github.acme/tool-2", "1.5.0")
    requests = len(fake.requests)
    fake.fail_pages = {requests + 2}  # the full pass fails on its second page
    with pytest.raises(RegistryError) as failed:
        run_sync(engine, fake, full=True)
    assert failed.value.code == "upstream_failed"
    with Session(engine) as session:
        assert release(session, "io.github.acme/tool-2", "1.5.0").status == "active"
        assert journaled(session, "release.mirror.vanish") == []
    resumed = run_sync(engine, fake)  # continues the same pass, from its second page
    assert (resumed.resumed, resumed.kind, resumed.vanished) == (True, "full", 1)
    with Session(engine) as session:  # the entries only the first run listed are not vanished
        statuses = {(r.server_name, r.version): r.status for r in session.exec(select(Release))}
        assert [k for k, s in statuses.items() if s == "deleted"] == [("io.github.acme/tool-2", "1.5.0")]


def test_a_pass_that_lists_none_of_the_mirror_decides_nothing(engine: sa.Engine) -> None:
    fake = seeded(3)
    declare(engine)
    run_sync(engine, fake)
    empty = FakeUpstream()  # a misconfigured URL, or an upstream restored empty
    empty.add(server_doc("io.github.else/where", "1.0.0"))
    assert run_sync(engine, empty, full=True).vanished == 0
    with Session(engine) as session:
        assert {r.status for r in session.exec(select(Release))} == {"active"}


def test_a_locally_deprecated_release_that_vanishes_keeps_its_local_status_and_pin(
    engine: sa.Engine,
) -> None:
    fake = seeded()
    declare(engine)
    run_sync(engine, fake)
    act(engine, lambda s: releases.set_status(s, ADMIN, TOOL, "1.1.0", "deprecated", "ours: use 1.4.0"))
    act(engine, lambda s: pins.pin(s, ADMIN, TOOL, "1.1.0"))
    fake.drop(TOOL, "1.1.0")
    assert run_sync(engine, fake, full=True).vanished == 1
    with Session(engine) as session:
        kept = release(session, TOOL, "1.1.0")
        assert (kept.status, kept.status_message, kept.is_latest) == ("deprecated", "ours: use 1.4.0", True)
        upstream_view = mirrored(session, TOOL, "1.1.0")
        assert upstream_view.upstream_status == "deleted"
        assert (upstream_view.upstream_status_message or "").startswith(VANISHED)


def test_reconciliation_leaves_other_upstreams_local_releases_and_skipped_entries_alone(
    engine: sa.Engine,
) -> None:
    public, beta = seeded(3), seeded(2, namespace="io.github.beta")
    public.add(server_doc("io.github.acme/skipped", "1.0.0"))
    declare(engine, namespaces=["io.github.acme"])
    declare(engine, "beta", namespaces=["io.github.beta"])
    with unit_of_work(engine, write=True) as session:
        create_release(session, SYSTEM, server_doc("com.example/local", "1.0.0"))
    run_sync(engine, public)
    run_sync(engine, beta, "beta")
    act(
        engine,
        lambda s: upstreams.change(
            s, RING, ADMIN, "public", upstreams.UpstreamInput(exclude=("io.github.acme/skipped",))
        ),
    )
    public.drop("io.github.acme/tool-0", "1.0.0")
    run = run_sync(engine, public, full=True)
    assert (run.vanished, run.skipped) == (1, 1)  # skipped now, but listed: not vanished
    with Session(engine) as session:
        deleted = [(r.server_name, r.version) for r in session.exec(select(Release)) if r.status == "deleted"]
        assert deleted == [("io.github.acme/tool-0", "1.0.0")]


def test_every_nth_sync_is_a_full_pass_that_reconciles(engine: sa.Engine) -> None:
    fake = seeded(3)
    declare(engine)
    run_sync(engine, fake, reconcile_every=3)
    fake.drop("io.github.acme/tool-2", "1.2.0")
    kinds = [run_sync(engine, fake, reconcile_every=3) for _ in range(4)]
    assert [(r.kind, r.vanished) for r in kinds] == [
        ("incremental", 0),
        ("incremental", 0),
        ("full", 1),  # the first sync, then one in three
        ("incremental", 0),
    ]


def test_a_withheld_release_that_vanishes_stays_withheld_and_comes_back_deleted(engine: sa.Engine) -> None:
    fake = seeded()
    declare(engine)
    run_sync(engine, fake)
    act(engine, lambda s: rules.set_rule(s, ADMIN, "io.github.acme/tool-2", "deny"))
    fake.drop("io.github.acme/tool-2", "1.5.0")
    assert run_sync(engine, fake, full=True).vanished == 1
    with Session(engine) as session:
        assert release(session, "io.github.acme/tool-2", "1.5.0").status_message == WITHHELD
    act(engine, lambda s: rules.remove_rule(s, ADMIN, "io.github.acme/tool-2"))
    with Session(engine) as session:  # restored to the upstream's last word: it vanished
        back = release(session, "io.github.acme/tool-2", "1.5.0")
        assert back.status == "deleted" and (back.status_message or "").startswith(VANISHED)
        assert release(session, "io.github.acme/tool-2", "1.2.0").status == "active"
