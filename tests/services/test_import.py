"""Importing catalogues: server.json lists, saved /v0.1/servers pages, and the 2025-05 legacy file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import JournalEntry, Release
from mcpreg.domain.legacy import ImportItem, iter_import_documents
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import discovery
from mcpreg.services.bootstrap import load_sample_catalogue
from mcpreg.services.importer import import_items
from tests.conftest import ROOT, server_doc


def run_import(engine: sa.Engine, data: Any) -> Any:
    with unit_of_work(engine, write=True) as session:
        return import_items(session, SYSTEM, iter_import_documents(data))


def test_the_legacy_seed_reports_every_entry_as_landed_or_skipped_with_a_reason(
    engine: sa.Engine, shared_reference: Path
) -> None:
    data = json.loads((shared_reference / "seed_2025_05_16.json").read_text())
    report = run_import(engine, data)
    assert len(report.landed) + len(report.skipped) == len(data) == 471
    assert report.landed, "most of the legacy catalogue converts"
    assert all(reason.strip() for _, reason in report.skipped)
    with unit_of_work(engine) as session:
        stored = session.exec(select(sa.func.count()).select_from(Release)).one()
    assert stored == len(report.landed)


def test_importing_the_same_file_twice_skips_every_entry_as_existing(engine: sa.Engine) -> None:
    docs = [server_doc(version="1.0.0"), server_doc(version="1.1.0")]
    assert len(run_import(engine, docs).landed) == 2
    again = run_import(engine, docs)
    assert again.landed == [] and [r for _, r in again.skipped if r.startswith("version_exists")] == [
        r for _, r in again.skipped
    ]


def test_a_saved_servers_response_round_trips_with_statuses(engine: sa.Engine, session: Session) -> None:
    saved = {
        "servers": [
            {
                "server": server_doc(version="1.0.0"),
                "_meta": {"io.modelcontextprotocol.registry/official": {"status": "deprecated"}},
            },
            {"server": server_doc(version="1.1.0"), "_meta": {}},
        ],
        "metadata": {"count": 2},
    }
    report = run_import(engine, saved)
    assert len(report.landed) == 2
    rows = discovery.list_versions(session, "io.github.acme/weather")
    assert [(r.version, r.status, r.is_latest) for r in rows] == [
        ("1.1.0", "active", True),
        ("1.0.0", "deprecated", False),
    ]


def test_invalid_documents_are_skipped_with_field_and_rule(engine: sa.Engine) -> None:
    bad_version = server_doc(version="v1.0.0")
    no_description = server_doc(version="1.0.0")
    del no_description["description"]
    report = run_import(engine, [bad_version, no_description, server_doc(version="2.0.0")])
    assert len(report.landed) == 1
    reasons = [reason for _, reason in report.skipped]
    assert any("/version" in r and "drop the leading v" in r for r in reasons)
    assert any("/description" in r for r in reasons)


def test_the_sample_catalogue_loads_whole(engine: sa.Engine, session: Session) -> None:
    with unit_of_work(engine, write=True) as s:
        report = load_sample_catalogue(s, ROOT / "registry-data")
    assert report.skipped == []
    names = {r.server_name for r in session.exec(select(Release))}
    assert len(names) >= 12
    assert session.exec(select(Release).where(Release.is_prerelease.is_(True))).first() is not None  # type: ignore[union-attr]


def test_mcpreg_import_prints_a_summary_with_every_skip_reason(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "docs.json"
    path.write_bytes(orjson.dumps([server_doc(version="1.0.0"), server_doc(version="v2")]))
    env = {**os.environ, "MCPREG_DATABASE_URL": database_url, "MCPREG_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "mcpreg", "import", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "landed 1" in result.stdout and "skipped 1" in result.stdout
    assert "drop the leading v" in result.stdout
    as_json = subprocess.run(
        [sys.executable, "-m", "mcpreg", "import", "--json", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(as_json.stdout)
    assert report["landed"] == 0 and len(report["skipped"]) == 2


def test_every_imported_release_is_journaled_and_latest_prefers_stable(engine: sa.Engine) -> None:
    name = "io.github.acme/weather"
    docs = [server_doc(version=v) for v in ("1.0.0", "1.2.0", "2.0.0-rc.1", "1.10.0")]
    docs.append(server_doc(name="com.example/beta-only", version="0.1.0-beta.1"))
    report = run_import(engine, docs)
    assert len(report.landed) == 5
    with unit_of_work(engine) as session:
        entries = session.exec(
            select(JournalEntry.server_name, JournalEntry.version).where(
                JournalEntry.action == "release.import"
            )
        ).all()
        assert sorted(entries) == sorted((d["name"], d["version"]) for d in docs)
        assert discovery.lookup(session, name, "latest").version == "1.10.0"
        assert discovery.lookup(session, "com.example/beta-only", "latest").version == "0.1.0-beta.1"
    run_import(engine, [server_doc(version="1.11.0")])  # a later batch moves latest
    with unit_of_work(engine) as session:
        latest = session.exec(select(Release.version).where(Release.is_latest)).all()
        assert sorted(latest) == ["0.1.0-beta.1", "1.11.0"]


def test_a_document_not_checked_by_the_reader_is_checked_on_import(engine: sa.Engine) -> None:
    unchecked = ImportItem(0, "#0", {"name": "not a name", "version": "1.0.0"})
    checked = next(iter_import_documents([server_doc(version="1.0.0")]))
    assert (unchecked.validated, checked.validated) == (False, True)
    with unit_of_work(engine, write=True) as session:
        report = import_items(session, SYSTEM, [unchecked, checked])
    assert report.landed == ["io.github.acme/weather@1.0.0"]
    assert [label for label, _ in report.skipped] == ["#0"]
