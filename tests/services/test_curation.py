"""Curation across syncs of a fake official-shaped upstream, on SQLite and PostgreSQL: a
local status survives, deny and allow rules keep servers out and in, a pin holds
``latest``, local channels stay, and every act is journaled."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.db.mirror_tables import MirroredRelease, RefusedEntry
from mcpreg.db.tables import Release
from mcpreg.domain.deploy_requests import parse_deploy
from mcpreg.domain.principal import SYSTEM, Principal
from mcpreg.errors import RegistryError
from mcpreg.services import channels, discovery, leases, releases
from mcpreg.services.curation import listing, pins, policy, rules
from mcpreg.services.deploy.deployments import deploy
from tests.conftest import server_doc
from tests.support.curation import ADMIN, act, actions, declare, run_sync
from tests.support.upstream_registry import FakeUpstream

TOOL = "io.github.acme/tool-{}"


def mirrored(engine: sa.Engine, *, servers: int = 3, versions: int = 2) -> FakeUpstream:
    """An upstream with ``servers`` servers of ``versions`` versions each, declared and synced."""
    fake = FakeUpstream()
    for s in range(servers):
        for v in range(versions):
            fake.add(server_doc(TOOL.format(s), f"1.{v}.0"))
    declare(engine)
    run_sync(engine, fake)
    return fake


def release(session: Session, name: str, version: str) -> Release:
    row = session.exec(select(Release).where(Release.server_name == name, Release.version == version)).one()
    session.refresh(row)
    return row


def latest(session: Session, name: str) -> str | None:
    found = discovery.latest_release(session, name)
    return found.version if found is not None else None


def test_a_local_deprecation_survives_a_sync_that_changes_the_upstream_status(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    name = TOOL.format(0)
    act(engine, lambda s: releases.set_status(s, ADMIN, name, "1.0.0", "deprecated", "use our fork"))
    fake.set_status(name, "1.0.0", "active")  # the upstream touches it (updatedAt moves) ...
    fake.set_status(name, "1.0.0", "deprecated", "upstream says so")  # ... and changes its status
    run = run_sync(engine, fake)
    assert run.updated == 1
    with Session(engine) as session:
        row = release(session, name, "1.0.0")
        assert (row.status, row.status_message) == ("deprecated", "use our fork")
        upstream = session.get(MirroredRelease, row.id)
        assert upstream is not None and upstream.upstream_status_message == "upstream says so"
        assert policy(session, "public").keeps_local_status(name, "1.0.0")
        assert actions(session) == ["curation.status.keep"]


def test_a_local_delete_is_kept_and_the_upstream_cannot_bring_the_release_back(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    name = TOOL.format(1)
    act(engine, lambda s: releases.set_status(s, ADMIN, name, "1.1.0", "deleted"))
    fake.set_status(name, "1.1.0", "deprecated", "moved")
    run_sync(engine, fake)
    with Session(engine) as session:
        assert release(session, name, "1.1.0").status == "deleted"
        assert latest(session, name) == "1.0.0"


def test_giving_back_the_upstream_status_lets_the_release_follow_the_upstream_again(
    engine: sa.Engine,
) -> None:
    fake = mirrored(engine)
    name = TOOL.format(0)
    act(engine, lambda s: releases.set_status(s, ADMIN, name, "1.1.0", "deprecated", "hold on"))
    act(engine, lambda s: releases.set_status(s, ADMIN, name, "1.1.0", "active"))
    fake.set_status(name, "1.1.0", "deprecated", "upstream deprecates")
    run_sync(engine, fake)
    with Session(engine) as session:
        row = release(session, name, "1.1.0")
        assert (row.status, row.status_message) == ("deprecated", "upstream deprecates")
        assert not policy(session, "public").keeps_local_status(name, "1.1.0")
        assert actions(session) == ["curation.status.keep", "curation.status.follow"]


def test_a_server_wide_deprecation_of_a_mirrored_server_is_kept_for_every_version(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    name = TOOL.format(2)
    act(engine, lambda s: releases.set_status_all(s, ADMIN, name, "deprecated", "unmaintained"))
    fake.set_status(name, "1.0.0", "deleted")
    run_sync(engine, fake)
    with Session(engine) as session:
        assert {release(session, name, v).status_message for v in ("1.0.0", "1.1.0")} == {"unmaintained"}
        assert actions(session) == ["curation.status.keep"] * 2


def test_a_non_semver_mirrored_release_is_deprecated_and_pinned_by_its_exact_text(engine: sa.Engine) -> None:
    fake = FakeUpstream()
    name = "io.github.acme/dated"
    for version in ("2024.01.15", "2025.02.01"):
        fake.add(server_doc(name, version))
    declare(engine)
    run_sync(engine, fake)
    act(engine, lambda s: releases.set_status(s, ADMIN, name, "2024.01.15", "deprecated", "old scheme"))
    act(engine, lambda s: pins.pin(s, ADMIN, name, "2024.01.15"))
    fake.set_status(name, "2024.01.15", "deleted")
    fake.add(server_doc(name, "2026.03.01"))
    run_sync(engine, fake)
    with Session(engine) as session:
        assert release(session, name, "2024.01.15").status_message == "old scheme"
        assert latest(session, name) == "2024.01.15"
    with pytest.raises(RegistryError) as refused:
        act(engine, lambda s: releases.set_status(s, ADMIN, name, "2023.no.such", "deprecated"))
    assert refused.value.code == "invalid_version"


def test_a_status_change_of_a_local_release_is_no_curation(engine: sa.Engine) -> None:
    act(engine, lambda s: releases.create_release(s, SYSTEM, server_doc("io.example/own", "1.0.0")))
    act(engine, lambda s: releases.set_status(s, ADMIN, "io.example/own", "1.0.0", "deprecated", "old"))
    with Session(engine) as session:
        assert actions(session) == []
        assert not policy(session).keeps_local_status("io.example/own", "1.0.0")


def test_a_deny_rule_withholds_what_was_mirrored_and_keeps_it_out_of_later_syncs(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    denied = TOOL.format(1)
    done = act(engine, lambda s: rules.set_rule(s, ADMIN, denied, "deny"))
    assert (done.withheld, done.restored) == ([denied], [])
    fake.add(server_doc(denied, "1.9.0"))
    fake.add(server_doc(TOOL.format(2), "1.9.0"))
    run = run_sync(engine, fake)
    assert run.added == 1 and run.skipped >= 1  # the overlap window re-reads older ones
    with Session(engine) as session:
        assert {release(session, denied, v).status for v in ("1.0.0", "1.1.0")} == {"deleted"}
        assert release(session, denied, "1.0.0").status_message == rules.WITHHELD
        assert latest(session, denied) is None
        assert latest(session, TOOL.format(2)) == "1.9.0"
        assert not session.exec(
            select(Release).where(Release.version == "1.9.0", Release.server_name == denied)
        ).first()


def test_removing_a_deny_rule_restores_the_upstream_status_and_the_local_one(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    name = TOOL.format(0)
    fake.set_status(name, "1.0.0", "deprecated", "upstream old")
    run_sync(engine, fake)
    act(engine, lambda s: releases.set_status(s, ADMIN, name, "1.1.0", "deprecated", "local"))
    act(engine, lambda s: rules.set_rule(s, ADMIN, "io.github.acme/*", "deny", "public"))
    done = act(engine, lambda s: rules.remove_rule(s, ADMIN, "io.github.acme/*", "public"))
    assert done.restored == [TOOL.format(i) for i in range(3)]
    with Session(engine) as session:
        assert release(session, name, "1.0.0").status_message == "upstream old"
        assert release(session, name, "1.1.0").status_message == "local"
        assert latest(session, TOOL.format(1)) == "1.1.0"
        assert actions(session) == [
            "curation.status.keep",
            *["curation.withhold"] * 3,
            "curation.deny",
            *["curation.restore"] * 3,
            "curation.rule.remove",
        ]


def test_withholding_a_release_that_runs_somewhere_needs_force(engine: sa.Engine) -> None:
    mirrored(engine)
    name = TOOL.format(0)
    act(engine, lambda s: deploy(s, SYSTEM, "dev", parse_deploy({"server": name, "version": "1.1.0"})))
    with pytest.raises(RegistryError) as refused:
        act(engine, lambda s: rules.set_rule(s, ADMIN, name, "deny"))
    assert refused.value.code == "release_in_use"
    with Session(engine) as session:
        assert rules.list_rules(session) == [] and release(session, name, "1.1.0").status == "active"
    assert act(engine, lambda s: rules.set_rule(s, ADMIN, name, "deny", force=True)).withheld == [name]


def test_a_rule_change_waits_for_a_running_sync_of_its_upstream(engine: sa.Engine) -> None:
    mirrored(engine)
    act(engine, lambda s: leases.try_acquire(s, "mirror:public", "other-replica", timedelta(minutes=1)))
    for upstream in ("public", None):
        with pytest.raises(RegistryError) as refused:
            act(engine, lambda s, u=upstream: rules.set_rule(s, ADMIN, "io.github.*", "deny", u))
        assert refused.value.code == "sync_in_progress"


def test_the_most_specific_rule_decides_so_an_allow_list_lets_only_its_servers_in(engine: sa.Engine) -> None:
    act(engine, lambda s: rules.set_rule(s, ADMIN, "*", "deny"))
    act(engine, lambda s: rules.set_rule(s, ADMIN, TOOL.format(2), "allow"))
    mirrored(engine)
    with Session(engine) as session:
        names = set(session.exec(select(Release.server_name)))
        assert names == {TOOL.format(2)}


def test_a_pin_holds_latest_through_a_sync_that_brings_a_newer_version(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    name = TOOL.format(0)
    act(engine, lambda s: pins.pin(s, ADMIN, name, "1.0.0"))
    fake.add(server_doc(name, "2.0.0"))
    fake.set_status(name, "1.1.0", "deprecated", "old")
    run_sync(engine, fake)
    with Session(engine) as session:
        assert latest(session, name) == "1.0.0"
        flagged = session.exec(
            select(Release.version).where(Release.server_name == name, col(Release.is_latest))
        )
        assert list(flagged) == ["1.0.0"]
    unpinned = act(engine, lambda s: pins.unpin(s, ADMIN, name))
    assert unpinned.latest == "2.0.0"
    with Session(engine) as session:
        assert actions(session) == ["curation.pin", "curation.unpin"]


def test_a_pin_on_a_deleted_release_is_refused(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    fake.set_status(TOOL.format(0), "1.0.0", "deleted")
    run_sync(engine, fake)
    with pytest.raises(RegistryError) as refused:
        act(engine, lambda s: pins.pin(s, ADMIN, TOOL.format(0), "1.0.0"))
    assert refused.value.code == "release_not_published"


def test_a_local_channel_on_a_mirrored_server_survives_syncs(engine: sa.Engine) -> None:
    fake = mirrored(engine)
    name = TOOL.format(0)
    act(engine, lambda s: channels.set_channel(s, ADMIN, name, "stable", "1.0.0"))
    fake.add(server_doc(name, "1.5.0", description="changed upstream"))
    fake.add(server_doc(name, "1.0.0", description="re-described upstream"))
    run = run_sync(engine, fake)
    assert (run.added, run.updated) == (1, 1)
    with Session(engine) as session:
        assert channels.get_channel(session, name, "stable").version == "1.0.0"


def test_an_upstream_entry_whose_name_is_taken_here_is_refused_as_a_clash(engine: sa.Engine) -> None:
    act(engine, lambda s: releases.create_release(s, SYSTEM, server_doc(TOOL.format(0), "0.1.0")))
    mirrored(engine)
    with Session(engine) as session:
        reasons = {r.server_name: r.reason for r in session.exec(select(RefusedEntry))}
        assert reasons[TOOL.format(0)].startswith("name clash")
        assert release(session, TOOL.format(0), "0.1.0").created_by == "system"
        assert (
            session.exec(select(MirroredRelease).where(MirroredRelease.server_name == TOOL.format(0))).first()
            is None
        )


def test_bad_curation_input_is_refused_by_code(engine: sa.Engine) -> None:
    cases = [
        (lambda s: rules.set_rule(s, ADMIN, "", "deny"), "invalid_curation"),
        (lambda s: rules.set_rule(s, ADMIN, "io.*", "maybe"), "invalid_curation"),
        (lambda s: rules.set_rule(s, ADMIN, "io.*", "deny", "nowhere"), "upstream_not_found"),
        (lambda s: rules.remove_rule(s, ADMIN, "io.*"), "curation_not_found"),
        (lambda s: pins.unpin(s, ADMIN, TOOL.format(0)), "server_not_found"),
        (
            lambda s: rules.set_rule(s, Principal("p", frozenset({"publish"}), token_id=2), "x", "deny"),
            "permission_denied",
        ),
    ]
    for work, code in cases:
        with pytest.raises(RegistryError) as refused:
            act(engine, work)
        assert refused.value.code == code
    act(engine, lambda s: rules.set_rule(s, ADMIN, "io.*", "deny"))
    with pytest.raises(RegistryError) as again:
        act(engine, lambda s: rules.set_rule(s, ADMIN, "io.*", "deny"))
    assert again.value.code == "no_changes"


def test_the_listing_shows_rules_local_namespaces_pins_local_statuses_and_owners(engine: sa.Engine) -> None:
    mirrored(engine)
    act(engine, lambda s: rules.set_rule(s, ADMIN, TOOL.format(2), "deny", "public"))
    act(engine, lambda s: pins.pin(s, ADMIN, TOOL.format(0), "1.0.0"))
    act(engine, lambda s: releases.set_status(s, ADMIN, TOOL.format(1), "1.0.0", "deprecated", "no"))
    with Session(engine) as session:
        shown = listing.curation(session, ADMIN)
    assert [(r.pattern, r.effect, r.upstream) for r in shown.rules] == [(TOOL.format(2), "deny", "public")]
    assert [(p.server, p.version) for p in shown.pins] == [(TOOL.format(0), "1.0.0")]
    assert [(s.server, s.status, s.upstream_status) for s in shown.local_statuses] == [
        (TOOL.format(1), "deprecated", "active")
    ]
    assert [(o.upstream, o.namespaces, o.exclude) for o in shown.owners] == [("public", [], [])]
