"""Syncing a fake official-shaped upstream, on SQLite and PostgreSQL: full and incremental
syncs converge, status changes and deletions apply, non-SemVer versions are kept and
ordered, invalid entries are recorded and skipped, an interrupted sync resumes, and two
replicas never sync one upstream at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing
from mcpreg.db.engine import make_engine, unit_of_work
from mcpreg.db.lease_tables import Lease
from mcpreg.db.mirror_tables import MirroredRelease, RefusedEntry, SyncRun, Upstream
from mcpreg.db.tables import Release
from mcpreg.domain.principal import SYSTEM
from mcpreg.errors import RegistryError
from mcpreg.services import discovery, rotation
from mcpreg.services.mirror import sync, upstreams
from mcpreg.services.mirror.runs import RunInfo
from mcpreg.services.releases import create_release
from tests.conftest import server_doc
from tests.support.upstream_registry import BASE, FakeUpstream

RING = KeyRing([("k1", bytes(range(32)))])


def declare(engine: sa.Engine, name: str = "public", **body: Any) -> None:
    with unit_of_work(engine, write=True) as session:
        _, given = upstreams.parse_input({"name": name, "url": BASE, **body}, creating=True)
        upstreams.create(session, RING, SYSTEM, name, given)


def run_sync(
    engine: sa.Engine, fake: FakeUpstream, name: str = "public", *, holder: str = "r1", **options: Any
) -> RunInfo:
    with fake.client() as client:
        return sync.sync(
            engine, RING, client, SYSTEM, name, sync.SyncOptions(holder=holder, page_limit=3, **options)
        )


def stored(session: Session) -> dict[tuple[str, str], Release]:
    return {(r.server_name, r.version): r for r in session.exec(select(Release))}


def seeded(count: int = 7) -> FakeUpstream:
    fake = FakeUpstream()
    for i in range(count):
        fake.add(server_doc(f"io.github.acme/tool-{i % 3}", f"1.{i}.0"))
    return fake


def test_a_full_sync_stores_every_entry_with_its_upstream_status_time_and_provenance(
    engine: sa.Engine,
) -> None:
    fake = seeded()
    fake.set_status("io.github.acme/tool-0", "1.0.0", "deprecated", "use 1.3.0")
    declare(engine)
    run = run_sync(engine, fake)
    assert (run.state, run.kind, run.added, run.pages) == ("ok", "full", 7, 3)
    with Session(engine) as session:
        rows = stored(session)
        old = rows[("io.github.acme/tool-0", "1.0.0")]
        assert (old.status, old.status_message) == ("deprecated", "use 1.3.0")
        served = next(e for e in fake.entries if e.key == ("io.github.acme/tool-0", "1.0.0"))
        assert old.published_at == served.published_at
        assert orjson.loads(old.document) == served.server
        mirrored = session.get(MirroredRelease, old.id)
        assert mirrored is not None and mirrored.source_url == (
            f"{BASE}/servers/io.github.acme%2Ftool-0/versions/1.0.0"
        )
        latest = discovery.latest_release(session, "io.github.acme/tool-0")
        assert latest is not None and latest.version == "1.6.0"


def test_an_incremental_sync_applies_new_versions_status_changes_and_deletions(engine: sa.Engine) -> None:
    fake = seeded()
    declare(engine)
    run_sync(engine, fake)
    fake.add(server_doc("io.github.acme/tool-1", "2.0.0"))
    fake.set_status("io.github.acme/tool-2", "1.5.0", "deleted")
    fake.set_status("io.github.acme/tool-0", "1.3.0", "deprecated", "old")
    run = run_sync(engine, fake)
    assert run.kind == "incremental" and run.updated_since is not None
    assert (run.added, run.updated) == (1, 2)
    assert fake.requests[-1].url.params.get("updated_since") is not None
    with Session(engine) as session:
        rows = stored(session)
        assert rows[("io.github.acme/tool-2", "1.5.0")].status == "deleted"
        assert rows[("io.github.acme/tool-0", "1.3.0")].status_message == "old"
        latest = discovery.latest_release(session, "io.github.acme/tool-2")
        assert latest is not None and latest.version == "1.2.0"
        assert len(rows) == 8
    again = run_sync(engine, fake)
    assert (again.added, again.updated, again.refused) == (0, 0, 0)


def test_the_overlap_window_catches_an_entry_that_landed_behind_the_watermark(engine: sa.Engine) -> None:
    fake = seeded(3)
    declare(engine)
    run_sync(engine, fake)
    watermark = max(e.updated_at for e in fake.entries)
    # Committed upstream after the first sync read, but stamped before its watermark.
    fake.add(server_doc("io.github.acme/late", "1.0.0"), at=watermark - timedelta(seconds=5))
    run = run_sync(engine, fake)
    assert run.added == 1 and run.unchanged >= 1  # the window re-read is deduplicated
    with Session(engine) as session:
        assert ("io.github.acme/late", "1.0.0") in stored(session)
        assert len(stored(session)) == 4


def test_non_semver_versions_are_stored_flagged_and_ordered_below_every_semver_one(engine: sa.Engine) -> None:
    fake = FakeUpstream()
    name = "io.github.acme/dated"
    for version in ("2024.01.15", "1.0.0-rc.1", "2023-winter", "2025.02.01"):
        fake.add(server_doc(name, version))
    declare(engine)
    run = run_sync(engine, fake)
    assert run.added == 4 and run.refused == 0
    with Session(engine) as session:
        versions = [r.version for r in discovery.list_versions(session, name)]
        assert versions == ["1.0.0-rc.1", "2025.02.01", "2023-winter", "2024.01.15"]
        flags = {m.version: m.semver for m in session.exec(select(MirroredRelease))}
        assert flags == {"2024.01.15": False, "1.0.0-rc.1": True, "2023-winter": False, "2025.02.01": False}
        latest = discovery.latest_release(session, name)
        assert latest is not None and latest.version == "1.0.0-rc.1"  # SemVer wins, as upstream
        assert discovery.lookup(session, name, "2023-winter").version == "2023-winter"
        assert discovery.resolve_range(session, name, "*", prerelease=True).version == "1.0.0-rc.1"
    with unit_of_work(engine, write=True) as session, pytest.raises(RegistryError) as refused:
        create_release(session, SYSTEM, server_doc("io.github.acme/local", "2024.01.15"))
    assert refused.value.code == "invalid_version"  # publishing one here stays refused


def test_invalid_entries_are_recorded_with_their_reason_and_nothing_of_them_is_stored(
    engine: sa.Engine,
) -> None:
    fake = FakeUpstream()
    fake.add(server_doc("io.github.acme/good", "1.0.0"))
    fake.add(server_doc("io.github.acme/ranged", "^1.0.0"))
    fake.add(server_doc("io.github.acme/long", "1.0.0", description="x" * 500))
    fake.add({"name": "io.github.acme/bare", "version": "1.0.0"})
    fake.add(server_doc("not a name", "1.0.0"))
    declare(engine)
    run = run_sync(engine, fake)
    assert (run.added, run.refused) == (1, 4)
    with Session(engine) as session:
        assert list(stored(session)) == [("io.github.acme/good", "1.0.0")]
        reasons = {r.server_name: r.reason for r in session.exec(select(RefusedEntry))}
        assert set(reasons) == {
            "io.github.acme/ranged",
            "io.github.acme/long",
            "io.github.acme/bare",
            "not a name",
        }
        assert all(reason.startswith("validation_failed") for reason in reasons.values())
        assert "/version" in reasons["io.github.acme/ranged"]


def test_an_interrupted_sync_resumes_at_the_next_page_without_duplicates(engine: sa.Engine) -> None:
    fake = seeded(8)
    declare(engine)
    fake.fail_pages = {2}
    with pytest.raises(RegistryError) as failed:
        run_sync(engine, fake)
    assert failed.value.code == "upstream_failed"
    with Session(engine) as session:
        assert len(stored(session)) == 3  # the first page, applied and checkpointed
        first = session.exec(select(SyncRun)).one()
        assert (
            first.state == "failed" and first.error is not None and first.error.startswith("upstream_failed")
        )
    run = run_sync(engine, fake)
    assert (run.resumed, run.kind, run.added, run.pages) == (True, "full", 5, 2)
    assert fake.requests[-2].url.params.get("cursor") is not None
    with Session(engine) as session:
        rows = session.exec(select(Release.server_name, Release.version)).all()
        assert len(rows) == len(set(rows)) == 8


def test_entries_outside_the_upstream_namespaces_are_skipped(engine: sa.Engine) -> None:
    fake = seeded(3)
    fake.add(server_doc("io.github.other/tool", "1.0.0"))
    fake.add(server_doc("com.example/tool", "1.0.0"))
    declare(engine, namespaces=["io.github.*"], exclude=["io.github.other"])
    run = run_sync(engine, fake)
    assert (run.added, run.skipped) == (3, 2)


def test_the_upstream_token_is_sent_as_a_bearer_and_stored_only_sealed(engine: sa.Engine) -> None:
    fake = seeded(1)
    declare(engine, token="s3cret-token")
    run_sync(engine, fake)
    assert fake.requests[0].headers["Authorization"] == "Bearer s3cret-token"
    with engine.connect() as connection:
        dump = str(connection.execute(sa.text("SELECT * FROM upstream")).all())
    assert "s3cret-token" not in dump


def test_two_replicas_never_sync_the_same_upstream_at_once(engine: sa.Engine) -> None:
    fake = seeded(4)
    declare(engine)
    holding, refused = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def hold(request: httpx.Request) -> None:
        if not holding.is_set():
            holding.set()
            assert refused.wait(timeout=20), "the second replica never tried"

    fake.on_request = hold
    other = make_engine(engine.url.render_as_string(hide_password=False), pool_size=2)

    def first() -> None:
        outcome["first"] = run_sync(engine, fake, holder="replica-a")

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert holding.wait(timeout=20)
        with pytest.raises(RegistryError) as busy:
            run_sync(other, FakeUpstream(), holder="replica-b")
        assert busy.value.code == "sync_in_progress"
    finally:
        refused.set()
        thread.join(timeout=30)
        other.dispose()
    assert outcome["first"].state == "ok"
    with Session(engine) as session:
        assert session.exec(select(sa.func.count()).select_from(SyncRun)).one() == 1
    assert run_sync(engine, fake, holder="replica-b").state == "ok"  # the lease was released


def test_a_release_published_locally_is_never_merged_with_an_upstream_one(engine: sa.Engine) -> None:
    with unit_of_work(engine, write=True) as session:
        create_release(session, SYSTEM, server_doc("io.github.acme/tool-0", "1.0.0"))
    fake = seeded(3)
    declare(engine)
    run = run_sync(engine, fake)
    assert run.added == 2 and run.refused == 1
    with Session(engine) as session:
        clash = session.exec(select(RefusedEntry)).one()
        assert clash.server_name == "io.github.acme/tool-0" and "clash" in clash.reason
        assert (
            session.exec(
                select(MirroredRelease).where(col(MirroredRelease.server_name) == clash.server_name)
            ).first()
            is None
        )


def test_a_stopping_background_sync_ends_after_its_page_gives_its_lease_up_and_resumes_later(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = seeded(8)
    declare(engine)
    with engine.begin() as connection:  # declared a day ago: due now
        connection.execute(sa.update(Upstream).values(created_at=datetime.now(UTC) - timedelta(days=1)))
    stop = threading.Event()

    def shutdown_during_the_second_read(request: httpx.Request) -> None:
        if len(fake.requests) == 2:  # page 2 is read ahead while page 1 is applied
            stop.set()

    fake.on_request = shutdown_during_the_second_read
    monkeypatch.setattr(sync, "upstream_client", fake.client)
    failures: list[str] = []
    done = sync.sync_due(
        engine,
        RING,
        overlap=timedelta(seconds=60),
        stopping=stop.is_set,
        on_failure=lambda n, e: failures.append(n),
        page_limit=3,
    )
    assert (done, failures) == (0, [])
    with Session(engine) as session:
        run = session.exec(select(SyncRun)).one()
        assert (run.state, run.pages, run.added) == ("failed", 1, 3)
        assert (run.error or "").startswith("interrupted")
        assert session.exec(select(sa.func.count()).select_from(Lease)).one() == 0  # given up
        assert sync.due(session) == []  # it began a moment ago
    fake.on_request = None
    resumed = run_sync(engine, fake)
    assert (resumed.resumed, resumed.added, resumed.pages) == (True, 5, 2)


def test_a_key_rotation_moves_upstream_tokens_to_the_new_primary_key(engine: sa.Engine) -> None:
    declare(engine, token="upstream-bearer")
    rotated = KeyRing([("k2", bytes(range(1, 33))), ("k1", bytes(range(32)))])
    rotation.rotate(engine, rotated)
    with Session(engine) as session:
        upstream = upstreams.get(session, "public")
        assert upstream.token_key_id == "k2"
        assert upstreams.token_of(KeyRing([("k2", bytes(range(1, 33)))]), upstream) == "upstream-bearer"
