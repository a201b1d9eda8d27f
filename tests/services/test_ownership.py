"""Ownership of namespaces by upstreams, on SQLite and PostgreSQL: a local publish into an
owned namespace is refused until an admin marks it local, a mirrored server never takes a
local release, and an upstream entry whose name is local here is reported as a clash."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.db.mirror_tables import RefusedEntry
from mcpreg.domain.legacy import ImportItem
from mcpreg.domain.principal import SYSTEM
from mcpreg.errors import RegistryError
from mcpreg.services import discovery, importer, ownership, releases
from mcpreg.services.curation import namespaces, pins
from tests.conftest import server_doc
from tests.support.curation import ADMIN, act, actions, declare, run_sync
from tests.support.upstream_registry import FakeUpstream


def refused_code(engine: sa.Engine, work: Any) -> str:
    with pytest.raises(RegistryError) as refused:
        act(engine, work)
    return refused.value.code


def publish(name: str, version: str = "1.0.0", **options: Any) -> Any:
    return lambda s: releases.create_release(
        s, SYSTEM, server_doc(name, version), official_rules=True, **options
    )


def test_a_local_publish_or_draft_into_an_owned_namespace_is_refused(engine: sa.Engine) -> None:
    act(engine, publish("io.github.beta/early", draft=True))  # drafted before the upstream came
    declare(engine, namespaces=["io.github.*"], exclude=["io.github.acme"])
    assert refused_code(engine, publish("io.github.beta/tool")) == "namespace_mirrored"
    assert refused_code(engine, publish("io.github.beta/tool", draft=True)) == "namespace_mirrored"
    assert (
        refused_code(engine, lambda s: releases.publish_draft(s, SYSTEM, "io.github.beta/early", "1.0.0"))
        == "namespace_mirrored"
    )
    act(engine, publish("io.github.acme/tool"))  # excluded: not owned
    act(engine, publish("com.example/tool"))  # not covered at all
    with Session(engine) as session:
        assert ownership.owner_of(session, "io.github.beta/tool") == "public"
        assert ownership.owner_of(session, "io.github.acme/tool") is None


def test_marking_a_namespace_local_allows_publishing_and_keeps_the_sync_out(engine: sa.Engine) -> None:
    fake = FakeUpstream()
    fake.add(server_doc("io.github.beta/tool", "2.0.0"))
    fake.add(server_doc("io.github.beta/other", "1.0.0"))
    fake.add(server_doc("io.github.gamma/tool", "1.0.0"))
    declare(engine, namespaces=["io.github.*"])
    act(engine, lambda s: namespaces.mark_local(s, ADMIN, "io.github.beta"))
    act(engine, publish("io.github.beta/tool"))
    run = run_sync(engine, fake)
    assert (run.added, run.refused) == (1, 2)
    with Session(engine) as session:
        reasons = {r.server_name: r.reason for r in session.exec(select(RefusedEntry))}
        assert set(reasons) == {"io.github.beta/tool", "io.github.beta/other"}
        assert all(reason.startswith("name clash") for reason in reasons.values())
        versions = [
            r.version
            for r in releases.all_releases(session, releases.get_server(session, "io.github.beta/tool"))
        ]
        assert versions == ["1.0.0"]
        assert actions(session) == ["curation.local"]
    act(engine, lambda s: namespaces.unmark_local(s, ADMIN, "io.github.beta"))
    for name in ("io.github.beta/tool", "io.github.beta/new"):  # owned again: read-only
        assert refused_code(engine, publish(name, "1.1.0")) == "namespace_mirrored"


def test_a_mirrored_server_never_takes_a_local_release_even_in_a_local_namespace(engine: sa.Engine) -> None:
    fake = FakeUpstream()
    fake.add(server_doc("io.github.beta/tool", "1.0.0"))
    declare(engine, namespaces=["io.github.*"])
    run_sync(engine, fake)
    act(engine, lambda s: namespaces.mark_local(s, ADMIN, "io.github.beta"))
    assert refused_code(engine, publish("io.github.beta/tool", "1.1.0")) == "name_clash"
    duplicate = lambda s: releases.duplicate(s, SYSTEM, "io.github.beta/tool", "1.0.0", "1.2.0")  # noqa: E731
    assert refused_code(engine, duplicate) == "name_clash"
    act(engine, publish("io.github.beta/fresh"))  # a new name in the local namespace is fine


def test_a_server_mirrored_from_one_upstream_is_a_clash_for_another(engine: sa.Engine) -> None:
    fake = FakeUpstream()
    fake.add(server_doc("io.github.beta/tool", "1.0.0"))
    declare(engine)
    declare(engine, "second")
    run_sync(engine, fake)
    fake.add(server_doc("io.github.beta/tool", "1.1.0"))
    second = run_sync(engine, fake, "second")
    assert (second.added, second.refused) == (0, 2)
    with Session(engine) as session:
        reasons = {r.reason for r in session.exec(select(RefusedEntry))}
        assert reasons == {"name clash: io.github.beta/tool is mirrored here from another upstream"}


def test_an_import_skips_names_an_upstream_owns_or_mirrored_and_keeps_pins(engine: sa.Engine) -> None:
    fake = FakeUpstream()
    fake.add(server_doc("io.github.beta/tool", "1.0.0"))
    declare(engine, namespaces=["io.github.*"])
    run_sync(engine, fake)
    act(engine, lambda s: namespaces.mark_local(s, ADMIN, "io.github.ours"))
    act(engine, publish("io.github.ours/app"))
    act(engine, lambda s: pins.pin(s, ADMIN, "io.github.ours/app", "1.0.0"))
    docs = [
        server_doc("io.github.beta/tool", "2.0.0"),
        server_doc("io.github.gamma/tool", "1.0.0"),
        server_doc("io.github.ours/app", "2.0.0"),
        server_doc("com.example/app", "1.0.0"),
    ]
    items = [ImportItem(i, f"#{i}", doc) for i, doc in enumerate(docs)]
    report = act(engine, lambda s: importer.import_items(s, SYSTEM, items))
    assert report.landed == ["#2", "#3"]
    assert [reason.split(" ")[0] for _label, reason in report.skipped] == ["name_clash", "namespace_mirrored"]
    with Session(engine) as session:
        found = discovery.latest_release(session, "io.github.ours/app")
        assert found is not None and found.version == "1.0.0"


def test_local_namespace_input_is_checked(engine: sa.Engine) -> None:
    assert refused_code(engine, lambda s: namespaces.mark_local(s, ADMIN, "io.github.acme/tool")) == (
        "invalid_curation"
    )
    assert refused_code(engine, lambda s: namespaces.unmark_local(s, ADMIN, "io.github.acme")) == (
        "curation_not_found"
    )
    act(engine, lambda s: namespaces.mark_local(s, ADMIN, "io.github.acme"))
    assert refused_code(engine, lambda s: namespaces.mark_local(s, ADMIN, "io.github.acme")) == "no_changes"
