"""Curation against a real mcpreg as the upstream (its app in process, on its own SQLite
database; the mirror on SQLite and PostgreSQL): a local deprecation and a pin survive the
upstream's status changes and new versions, and a deny keeps what the upstream adds out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.api.app import create_app
from mcpreg.db.engine import make_engine
from mcpreg.db.mirror_tables import MirroredRelease
from mcpreg.db.tables import Release
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import discovery, releases
from mcpreg.services.curation import pins, rules
from mcpreg.services.mirror import sync
from mcpreg.services.mirror.runs import RunInfo
from mcpreg.settings import Settings
from tests.conftest import TEST_KEYS, make_token, server_doc
from tests.support.curation import ADMIN, RING, act, declare
from tests.support.inprocess import BASE_URL, InProcess

TOOL = "io.github.acme/tool"


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[httpx.Client]:
    """A second registry, serving the official API; an admin client on it."""
    url = f"sqlite:///{tmp_path / 'upstream.db'}"
    settings = Settings.from_env(
        {
            "MCPREG_DATABASE_URL": url,
            "MCPREG_DATA_DIR": str(tmp_path / "upstream"),
            "MCPREG_SAMPLE_DATA": "0",
            "MCPREG_DEV": "1",
            "MCPREG_SECRET_KEYS": TEST_KEYS,
        }
    )
    with InProcess(create_app(settings, background=False)) as served:
        engine = make_engine(url, pool_size=2)
        token = make_token(engine, "upstream-admin", ["admin"])
        engine.dispose()
        with served.client(token) as client:
            yield client


def publish(upstream: httpx.Client, name: str, version: str) -> None:
    response = upstream.post("/v0.1/publish", json=server_doc(name, version))
    assert response.status_code == 200, response.text


def mirror_sync(engine: sa.Engine, upstream: httpx.Client) -> RunInfo:
    return sync.sync(engine, RING, upstream, SYSTEM, "public", sync.SyncOptions(holder="r1"))


def test_curation_survives_status_changes_and_new_versions_of_a_real_mcpreg_upstream(
    engine: sa.Engine, upstream: httpx.Client
) -> None:
    for version in ("1.0.0", "1.1.0"):
        publish(upstream, TOOL, version)
    publish(upstream, "io.github.acme/other", "1.0.0")
    declare(engine, url=f"{BASE_URL}/v0.1", namespaces=["io.github.*"])
    assert mirror_sync(engine, upstream).added == 3
    act(engine, lambda s: releases.set_status(s, ADMIN, TOOL, "1.0.0", "deprecated", "ours: use 1.1.0"))
    act(engine, lambda s: pins.pin(s, ADMIN, TOOL, "1.1.0"))
    act(engine, lambda s: rules.set_rule(s, ADMIN, "io.github.acme/other", "deny"))
    path = "/v0.1/servers/io.github.acme%2Ftool/versions"
    changed = upstream.patch(f"{path}/1.0.0/status", json={"status": "deleted", "statusMessage": "gone"})
    assert changed.status_code == 200, changed.text
    publish(upstream, TOOL, "2.0.0")
    publish(upstream, "io.github.acme/other", "2.0.0")
    run = mirror_sync(engine, upstream)
    assert (run.kind, run.added) == ("incremental", 1)
    with Session(engine) as session:
        kept = session.exec(
            select(Release).where(Release.server_name == TOOL, Release.version == "1.0.0")
        ).one()
        assert (kept.status, kept.status_message) == ("deprecated", "ours: use 1.1.0")
        seen = session.get(MirroredRelease, kept.id)
        assert seen is not None and (seen.upstream_status, seen.upstream_status_message) == (
            "deleted",
            "gone",
        )
        latest = discovery.latest_release(session, TOOL)
        assert latest is not None and latest.version == "1.1.0"
        others = session.exec(select(Release.version).where(Release.server_name == "io.github.acme/other"))
        assert list(others) == ["1.0.0"]
