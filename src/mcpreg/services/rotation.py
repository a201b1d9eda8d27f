"""Key rotation: rewrap every stored secret under the primary key of the ring, online.

The procedure (as with Kubernetes encryption at rest): put a new key first in the ring
and restart every replica, run ``rotate``, then drop the old key. ``rotate``

* only unwraps and rewraps each secret's data key; values are never decrypted;
* moves one row per short transaction, with a compare-and-swap on the old token,
  so a secret changed by a concurrent ``PUT`` is never overwritten (it was sealed
  anew by that write) and readers never wait on a long transaction;
* keeps a checkpoint per target key (``secret_rotation``), so an interrupted run
  continues where it stopped; rewrapping is idempotent, so a rerun is always safe;
* reports progress and counts, and what still is not under the primary key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing, SecretContext, rewrap
from mcpreg.db.config_tables import Secret, SecretRotation
from mcpreg.db.engine import unit_of_work
from mcpreg.db.types import utcnow
from mcpreg.domain.principal import Principal
from mcpreg.errors import SecretDecryptFailed
from mcpreg.services import journal
from mcpreg.services.alerts import rules as alert_rules
from mcpreg.services.gates import store as gate_store
from mcpreg.services.mirror import upstreams

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each row of this run."""

DEFAULT_BATCH = 200


@dataclass(frozen=True)
class RotationFailure:
    """A secret that could not be rewrapped (tampered, or sealed under a key not in the ring)."""

    id: int
    server: str
    scope: str
    version: str | None
    environment: str | None
    name: str
    code: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "server": self.server,
            "scope": self.scope,
            "version": self.version,
            "environment": self.environment,
            "name": self.name,
            "code": self.code,
        }


@dataclass
class RotationReport:
    """Counts of one run (``rewrapped``, ``raced`` and ``failed`` include a resumed run's)."""

    key_id: str
    total: int = 0
    to_rewrap: int = 0
    rewrapped: int = 0
    raced: int = 0
    failed: int = 0
    remaining: int = 0
    resumed: bool = False
    failures: list[RotationFailure] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every stored secret is now sealed under the primary key: older keys may go."""
        return self.remaining == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "keyId": self.key_id,
            "total": self.total,
            "toRewrap": self.to_rewrap,
            "rewrapped": self.rewrapped,
            "raced": self.raced,
            "failed": self.failed,
            "remaining": self.remaining,
            "resumed": self.resumed,
            "complete": self.complete,
            "failures": [f.to_dict() for f in self.failures],
        }


def _stale(keyring: KeyRing) -> Any:
    return Secret.key_id != keyring.primary_id


def stale_count(session: Session, keyring: KeyRing) -> int:
    """How many secrets are not sealed under the ring's primary key."""
    return session.exec(select(sa.func.count()).select_from(Secret).where(_stale(keyring))).one()


def _start(engine: sa.Engine, keyring: KeyRing, actor: str, report: RotationReport) -> int:
    """Open or resume the checkpoint for the primary key; return the id to continue after."""
    with unit_of_work(engine, write=True) as session:
        state = session.exec(
            select(SecretRotation).where(SecretRotation.target_key_id == keyring.primary_id).with_for_update()
        ).first()
        if state is not None and state.finished_at is None:
            report.resumed = True
        else:
            now = utcnow()
            state = state or SecretRotation(target_key_id=keyring.primary_id, started_by=actor)
            state.last_id, state.rewrapped, state.raced, state.failed = 0, 0, 0, 0
            state.started_at, state.updated_at, state.started_by = now, now, actor
            session.add(state)
        report.rewrapped, report.raced, report.failed = state.rewrapped, state.raced, state.failed
        report.total = session.exec(select(sa.func.count()).select_from(Secret)).one()
        report.to_rewrap = session.exec(
            select(sa.func.count()).select_from(Secret).where(_stale(keyring), col(Secret.id) > state.last_id)
        ).one()
        return state.last_id


def _batch(engine: sa.Engine, keyring: KeyRing, after: int, size: int) -> list[Secret]:
    with unit_of_work(engine) as session:
        query = (
            select(Secret).where(_stale(keyring), col(Secret.id) > after).order_by(col(Secret.id)).limit(size)
        )
        return list(session.exec(query))


def _context(row: Secret) -> SecretContext:
    return SecretContext(row.server_name, row.scope, row.version, row.environment, row.name)  # type: ignore[arg-type]


def _move(engine: sa.Engine, keyring: KeyRing, row: Secret, report: RotationReport) -> None:
    """Rewrap one row: compare-and-swap on its old token, checkpoint in the same transaction."""
    assert row.id is not None
    outcome = "rewrapped"
    new_token: str | None = None
    try:
        new_token = rewrap(keyring, row.ciphertext, _context(row))
    except SecretDecryptFailed as exc:
        outcome = "failed"
        report.failures.append(
            RotationFailure(
                row.id,
                row.server_name,
                row.scope,
                row.version or None,
                row.environment or None,
                row.name,
                exc.code,
            )
        )
    with unit_of_work(engine, write=True) as session:
        if new_token is not None:
            swapped = session.execute(
                sa.update(Secret)
                .where(col(Secret.id) == row.id, col(Secret.ciphertext) == row.ciphertext)
                .values(ciphertext=new_token, key_id=keyring.primary_id)
            )
            if swapped.rowcount == 0:  # type: ignore[attr-defined]
                outcome = "raced"  # changed or deleted meanwhile: that write sealed it anew
        counter = getattr(SecretRotation, outcome)
        session.execute(
            sa.update(SecretRotation)
            .where(col(SecretRotation.target_key_id) == keyring.primary_id)
            .values(
                {
                    counter: counter + 1,
                    SecretRotation.last_id: sa.case(
                        (col(SecretRotation.last_id) < row.id, row.id),
                        else_=SecretRotation.last_id,
                    ),
                    SecretRotation.updated_at: utcnow(),
                }
            )
        )
    setattr(report, outcome, getattr(report, outcome) + 1)


def _finish(engine: sa.Engine, keyring: KeyRing, actor: Principal | str, report: RotationReport) -> None:
    with unit_of_work(engine, write=True) as session:
        upstreams.reseal_tokens(session, keyring)  # the subregistry's upstream tokens, too
        gate_store.reseal_secrets(session, keyring)  # and the promotion gates' webhook secrets
        alert_rules.reseal_secrets(session, keyring)  # and the alert rules' signing secrets
        report.remaining = stale_count(session, keyring)
        session.execute(
            sa.update(SecretRotation)
            .where(col(SecretRotation.target_key_id) == keyring.primary_id)
            .values(finished_at=utcnow(), updated_at=utcnow())
        )
        journal.record(
            session,
            actor,
            "secrets.rotate",
            after={k: v for k, v in report.to_dict().items() if k != "failures"},
        )


def rotate(
    engine: sa.Engine,
    keyring: KeyRing,
    *,
    actor: Principal | str = "cli",
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> RotationReport:
    """Rewrap every secret not under ``keyring.primary_id``; safe to run while serving.

    An exception (or an interrupt) leaves the checkpoint open and the next call resumes
    it. A finished run closes it; a later run scans again from the start, picking up
    anything a replica still on an old ring sealed in the meantime.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    name = actor if isinstance(actor, str) else actor.name
    report = RotationReport(key_id=keyring.primary_id)
    after = _start(engine, keyring, name, report)
    done = 0
    if progress is not None:
        progress(done, report.to_rewrap)
    while rows := _batch(engine, keyring, after, batch_size):
        for row in rows:
            _move(engine, keyring, row, report)
            done += 1
            if progress is not None:
                progress(done, max(report.to_rewrap, done))
        after = rows[-1].id or after
    _finish(engine, keyring, actor, report)
    return report
