"""Key rotation: every secret rewrapped under the primary key, resumable, never overwriting a
concurrent write, and the old key can then be dropped."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from typer.testing import CliRunner

from mcpreg.cli import secrets as secrets_cli
from mcpreg.crypto import KeyRing, SecretValue, key_id_of
from mcpreg.db.config_tables import Secret, SecretRotation
from mcpreg.db.engine import unit_of_work
from mcpreg.db.tables import JournalEntry
from mcpreg.domain.principal import SYSTEM
from mcpreg.errors import SecretDecryptFailed
from mcpreg.services import releases
from mcpreg.services.configuration import effective
from mcpreg.services.configuration import values as config_values
from mcpreg.services.rotation import rotate, stale_count

NAME = "io.github.acme/weather"
OLD = ("old", hashlib.sha256(b"old key").digest())  # random-looking: production refuses counting bytes
NEW = ("new", hashlib.sha256(b"new key").digest())
RING_OLD = KeyRing([OLD])
RING_NEW_OLD = KeyRing([NEW, OLD])
RING_NEW = KeyRing([NEW])


def doc(version: str) -> dict[str, object]:
    return {
        "name": NAME,
        "description": "Weather",
        "version": version,
        "packages": [
            {
                "registryType": "npm",
                "identifier": "@acme/w",
                "version": version,
                "transport": {"type": "stdio"},
            }
        ],
    }


def seed(engine: sa.Engine, count: int = 12) -> dict[tuple[str, str, str], str]:
    """``count`` secrets sealed under the old key, spread over every scope."""
    expected: dict[tuple[str, str, str], str] = {}
    with unit_of_work(engine, write=True) as session:
        releases.create_release(session, SYSTEM, doc("1.0.0"))
    for i in range(count):
        where = [{}, {"version": "1.0.0"}, {"environment": "production"}][i % 3]
        with unit_of_work(engine, write=True) as session:
            value = f"secret-{i}-plaintext"
            config_values.set_secret(session, RING_OLD, SYSTEM, NAME, f"S{i}", SecretValue(value), **where)
        expected[(f"S{i}", where.get("version", ""), where.get("environment", ""))] = value
    return expected


def read_all(engine: sa.Engine, ring: KeyRing) -> dict[tuple[str, str, str], str]:
    with unit_of_work(engine) as session:
        found = {}
        for scope_version, env in (("1.0.0", None), ("1.0.0", "production")):
            result = effective.effective_config(session, ring, NAME, scope_version, env, reveal=True)
            for name, item in result.secrets.items():
                found[(name, item.source, env or "")] = item.value
        return found


def key_ids(engine: sa.Engine) -> set[str]:
    with unit_of_work(engine) as session:
        return {key_id_of(r.ciphertext) for r in session.exec(select(Secret))} | {
            r.key_id for r in session.exec(select(Secret))
        }


def test_rotation_rewraps_every_secret_and_the_old_key_can_then_be_dropped(engine: sa.Engine) -> None:
    seed(engine)
    before = read_all(engine, RING_OLD)
    seen: list[tuple[int, int]] = []
    report = rotate(engine, RING_NEW_OLD, batch_size=5, progress=lambda d, t: seen.append((d, t)))
    assert (report.total, report.to_rewrap, report.rewrapped, report.failed, report.remaining) == (
        12,
        12,
        12,
        0,
        0,
    )
    assert report.complete and not report.resumed
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    assert key_ids(engine) == {"new"}
    assert read_all(engine, RING_NEW) == before
    with pytest.raises(SecretDecryptFailed) as gone:
        read_all(engine, RING_OLD)
    assert gone.value.code == "unknown_key"


def test_a_second_rotation_has_nothing_to_do(engine: sa.Engine) -> None:
    seed(engine, 4)
    rotate(engine, RING_NEW_OLD)
    again = rotate(engine, RING_NEW_OLD)
    assert (again.to_rewrap, again.rewrapped, again.remaining, again.resumed) == (0, 0, 0, False)


def test_an_interrupted_rotation_resumes_from_its_checkpoint(engine: sa.Engine) -> None:
    seed(engine, 10)
    before = read_all(engine, RING_OLD)

    def crash_after_four(done: int, _total: int) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate(engine, RING_NEW_OLD, batch_size=3, progress=crash_after_four)
    with unit_of_work(engine) as session:
        state = session.get(SecretRotation, "new")
        assert state is not None and state.finished_at is None and state.rewrapped == 4
        assert stale_count(session, RING_NEW_OLD) == 6
    resumed = rotate(engine, RING_NEW_OLD, batch_size=3)
    assert resumed.resumed
    assert (resumed.to_rewrap, resumed.rewrapped, resumed.remaining) == (6, 10, 0)
    assert read_all(engine, RING_NEW) == before


def test_a_secret_written_during_rotation_is_never_overwritten(engine: sa.Engine) -> None:
    seed(engine, 6)

    def write_the_last_one_meanwhile(done: int, _total: int) -> None:
        if done == 1:
            with unit_of_work(engine, write=True) as session:
                config_values.set_secret(
                    session,
                    RING_NEW_OLD,
                    SYSTEM,
                    NAME,
                    "S5",
                    SecretValue("written-meanwhile"),
                    environment="production",
                )

    report = rotate(engine, RING_NEW_OLD, batch_size=100, progress=write_the_last_one_meanwhile)
    assert (report.rewrapped, report.raced, report.remaining) == (5, 1, 0)
    assert read_all(engine, RING_NEW)[("S5", "environment", "production")] == "written-meanwhile"


def test_a_tampered_secret_is_reported_and_the_rest_still_rotate(engine: sa.Engine) -> None:
    seed(engine, 3)
    with unit_of_work(engine, write=True) as session:
        rows = list(session.exec(select(Secret).order_by(Secret.id)))  # type: ignore[arg-type]
        session.execute(
            sa.update(Secret).where(Secret.id == rows[0].id).values(ciphertext=rows[1].ciphertext)  # type: ignore[arg-type]
        )
    report = rotate(engine, RING_NEW_OLD)
    assert (report.rewrapped, report.failed, report.remaining, report.complete) == (2, 1, 1, False)
    assert report.failures[0].name == "S0"
    assert report.failures[0].code == "secret_decrypt_failed"
    assert "plaintext" not in repr(report.to_dict())


def test_each_rotation_is_journaled_with_its_counts(engine: sa.Engine) -> None:
    seed(engine, 2)
    rotate(engine, RING_NEW_OLD, actor="ops")
    with Session(engine) as session:
        entry = session.exec(select(JournalEntry).where(JournalEntry.action == "secrets.rotate")).one()
    assert entry.actor == "ops"
    assert entry.after is not None and '"rewrapped":2' in entry.after


# -- the command -----------------------------------------------------------------------------


def test_generate_key_prints_a_fresh_entry_that_parses() -> None:
    result = CliRunner().invoke(secrets_cli.app, ["generate-key", "--id", "k2026"])
    assert result.exit_code == 0, result.output
    ring = KeyRing.parse(result.output.strip())
    assert ring.primary_id == "k2026"
    assert not ring.insecure_ids()


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode().rstrip("=")


def test_the_rotate_command_reports_counts_and_is_resumable(
    engine: sa.Engine, database_url: str, tmp_path: Path
) -> None:
    seed(engine, 5)
    env = {
        "MCPREG_DATABASE_URL": database_url,
        "MCPREG_DATA_DIR": str(tmp_path / "cli"),
        "MCPREG_SECRET_KEYS": f"new:{_b64(NEW[1])},old:{_b64(OLD[1])}",
        "MCPREG_DEV": "0",
    }
    result = CliRunner().invoke(secrets_cli.app, ["rotate", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"rewrapped": 5' in result.output and '"remaining": 0' in result.output
    human = CliRunner().invoke(secrets_cli.app, ["rotate"], env=env)
    assert human.exit_code == 0, human.output
    assert "0 not under the primary key" in human.output
    assert key_ids(engine) == {"new"}
