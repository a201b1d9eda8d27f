"""Export writes a saved /v0.1/servers page that imports back unchanged, and carries no secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session

from mcpreg.crypto import KeyRing, SecretValue
from mcpreg.db.engine import unit_of_work
from mcpreg.domain.legacy import iter_import_documents
from mcpreg.domain.principal import SYSTEM
from mcpreg.services import releases
from mcpreg.services.configuration import values
from mcpreg.services.exporter import export_catalogue
from mcpreg.services.importer import import_items
from tests.conftest import TEST_KEYS, server_doc


def _documents_and_statuses(page: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    official = "io.modelcontextprotocol.registry/official"
    return [(s["server"], s["_meta"][official]["status"]) for s in page["servers"]]


def _documents_and_statuses(page: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    official = "io.modelcontextprotocol.registry/official"
    return [(s["server"], s["_meta"][official]["status"]) for s in page["servers"]]


def test_an_export_imports_back_with_documents_and_statuses(engine: sa.Engine, tmp_path: Path) -> None:
    with unit_of_work(engine, write=True) as session:
        for version in ("1.0.0", "1.1.0-rc.1", "1.1.0"):
            releases.create_release(session, SYSTEM, server_doc(version=version))
        releases.create_release(session, SYSTEM, server_doc(version="2.0.0"), draft=True)
        releases.set_status(session, SYSTEM, "io.github.acme/weather", "1.0.0", "deprecated", "old")
    with unit_of_work(engine) as session:
        exported = export_catalogue(session)
    assert [s["server"]["version"] for s in exported["servers"]] == ["1.1.0", "1.1.0-rc.1", "1.0.0"]

    other = sa.create_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    from mcpreg.db import migrate

    migrate.upgrade(other)
    with Session(other) as session:
        report = import_items(session, SYSTEM, iter_import_documents(exported))
        session.commit()
    assert len(report.landed) == 3 and report.skipped == []
    with unit_of_work(other) as session:
        again = export_catalogue(session)
    assert _documents_and_statuses(again) == _documents_and_statuses(exported)
    other.dispose()


def test_mcpreg_export_never_carries_a_secret(database_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    plaintext = "sk-export-canary-7f3a9c2e"
    with unit_of_work(engine, write=True) as session:
        releases.create_release(session, SYSTEM, server_doc(version="1.0.0"))
        values.set_secret(
            session,
            KeyRing.parse(TEST_KEYS),
            SYSTEM,
            "io.github.acme/weather",
            "API_KEY",
            SecretValue(plaintext),
        )
        values.set_variable(session, SYSTEM, "io.github.acme/weather", "LOG_LEVEL", "debug")
    out = tmp_path / "export.json"
    env = {**os.environ, "MCPREG_DATABASE_URL": database_url, "MCPREG_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "mcpreg", "export", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    body = out.read_bytes()
    assert orjson.loads(body)["metadata"]["count"] == 1
    assert plaintext.encode() not in body and b"API_KEY" not in body
