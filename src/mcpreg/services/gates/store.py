"""Declared gates: an environment's own, and those a deploy or promote request asked for.

An environment's gates need the ``admin`` scope to change (as its other settings do) and
``read`` to list; every change is journaled (``environment.gate.set``/``.remove``) without
the secret. A webhook's secret is sealed with the key ring under a context naming the gate
row's ``uid``, so a sealed secret copied to another row fails to open; reads say only whether
one is set. A request's gates are sealed by the API before the service sees the request
(``seal_specs``) and stored with the deployment (``store_request_gates``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

import orjson
from sqlmodel import Session, col, select

from mcpreg.crypto import KeyRing, SecretContext, key_id_of, rewrap, seal, unseal
from mcpreg.db.deploy_tables import Deployment, Environment
from mcpreg.db.gate_tables import StoredGate
from mcpreg.db.types import utcnow
from mcpreg.domain.gates import MAX_GATES, WEBHOOK, Gate, GateSpec, check_name, gate_from_dict, gate_to_dict
from mcpreg.domain.principal import Principal
from mcpreg.errors import NotFound, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.environments import get_environment
from mcpreg.services.tokens import require

ENVIRONMENT_SCOPE = 0  # ``deployment_id`` of an environment's own gates


@dataclass(frozen=True)
class DeclaredGate:
    """A gate as stored: where it is declared and whether a secret is set (never the secret)."""

    id: int
    environment: str
    deployment_id: int | None  # None: the environment's own
    gate: Gate
    has_secret: bool

    @property
    def name(self) -> str:
        return self.gate.name


def _context(uid: str) -> SecretContext:
    return SecretContext(server=f"gate:{uid}", scope="server", version="", environment="", name="secret")


def new_uid() -> str:
    return uuid.uuid4().hex


def seal_specs(keyring: KeyRing, specs: tuple[GateSpec, ...]) -> tuple[GateSpec, ...]:
    """Each spec with its secret sealed under a fresh ``uid`` and the plaintext dropped."""
    sealed: list[GateSpec] = []
    for spec in specs:
        uid = new_uid()
        token = seal(keyring, spec.secret, _context(uid)) if spec.secret is not None else None
        sealed.append(replace(spec, secret=None, uid=uid, sealed=token))
    return tuple(sealed)


def secret_of(keyring: KeyRing, row: StoredGate) -> str | None:
    """The gate's webhook secret in clear, for signing its request only."""
    if not row.secret_sealed:
        return None
    return unseal(keyring, row.secret_sealed, _context(row.uid))


def declared(row: StoredGate, env_name: str) -> DeclaredGate:
    assert row.id is not None
    return DeclaredGate(
        id=row.id,
        environment=env_name,
        deployment_id=row.deployment_id or None,
        gate=gate_from_dict(orjson.loads(row.spec)),
        has_secret=row.secret_sealed is not None,
    )


def gate_rows(session: Session, env_id: int, deployment_id: int = ENVIRONMENT_SCOPE) -> list[StoredGate]:
    query = (
        select(StoredGate)
        .where(StoredGate.environment_id == env_id, StoredGate.deployment_id == deployment_id)
        .order_by(col(StoredGate.name))
    )
    return list(session.exec(query).all())


def applicable(session: Session, deployment: Deployment) -> list[StoredGate]:
    """The gates a deployment answers to: its environment's, then its own, by name."""
    return [
        *gate_rows(session, deployment.environment_id),
        *(gate_rows(session, deployment.environment_id, deployment.id) if deployment.id else []),
    ]


def list_gates(session: Session, principal: Principal, env_name: str) -> list[DeclaredGate]:
    env = get_environment(session, env_name)
    require(principal, "read", environment=env.name)
    assert env.id is not None
    return [declared(row, env.name) for row in gate_rows(session, env.id)]


def _find(session: Session, env: Environment, name: str) -> StoredGate | None:
    return session.exec(
        select(StoredGate).where(
            StoredGate.environment_id == env.id,
            StoredGate.deployment_id == ENVIRONMENT_SCOPE,
            StoredGate.name == name,
        )
    ).first()


def get_gate(session: Session, principal: Principal, env_name: str, name: str) -> DeclaredGate:
    env = get_environment(session, env_name)
    require(principal, "read", environment=env.name)
    row = _find(session, env, check_name(name))
    if row is None:
        raise NotFound(f"no gate named {name!r} in {env.name}", field="name", code="gate_not_found")
    return declared(row, env.name)


def _summary(gate: DeclaredGate) -> dict[str, object]:
    return {**gate_to_dict(gate.gate), "secret": gate.has_secret}


def put_gate(
    session: Session, keyring: KeyRing, principal: Principal, env_name: str, spec: GateSpec
) -> tuple[DeclaredGate, bool]:
    """Declare or replace an environment's gate; True when it is new. A webhook replacing a
    webhook keeps its secret when none is given; a new webhook needs one."""
    env = get_environment(session, env_name)
    require(principal, "admin", environment=env.name)
    assert env.id is not None
    row = _find(session, env, spec.gate.name)
    created = row is None
    before = None if row is None else _summary(declared(row, env.name))
    if row is None:
        if len(gate_rows(session, env.id)) >= MAX_GATES:
            raise ValidationFailed(
                f"an environment has at most {MAX_GATES} gates", field="name", code="invalid_gate"
            )
        row = StoredGate(
            environment_id=env.id,
            deployment_id=ENVIRONMENT_SCOPE,
            uid=new_uid(),
            name=spec.gate.name,
            kind=spec.gate.kind,
            spec="{}",
            updated_by=principal.name,
        )
    if spec.gate.kind == WEBHOOK:
        if spec.secret is not None:
            row.uid = new_uid()
            row.secret_sealed = seal(keyring, spec.secret, _context(row.uid))
            row.secret_key_id = key_id_of(row.secret_sealed)
        elif row.secret_sealed is None or row.kind != WEBHOOK:
            raise ValidationFailed("a webhook gate needs a secret", field="secret", code="invalid_gate")
    else:
        row.secret_sealed = row.secret_key_id = None
    row.kind, row.spec = spec.gate.kind, orjson.dumps(gate_to_dict(spec.gate)).decode()
    row.updated_by, row.updated_at = principal.name, utcnow()
    session.add(row)
    session.flush()
    gate = declared(row, env.name)
    journal.record(
        session, principal, "environment.gate.set", environment=env.name, before=before, after=_summary(gate)
    )
    return gate, created


def delete_gate(session: Session, principal: Principal, env_name: str, name: str) -> None:
    env = get_environment(session, env_name)
    require(principal, "admin", environment=env.name)
    row = _find(session, env, check_name(name))
    if row is None:
        raise NotFound(f"no gate named {name!r} in {env.name}", field="name", code="gate_not_found")
    before = _summary(declared(row, env.name))
    session.delete(row)
    session.flush()
    journal.record(session, principal, "environment.gate.remove", environment=env.name, before=before)


def store_request_gates(session: Session, deployment: Deployment, specs: tuple[GateSpec, ...]) -> None:
    """Keep the gates a request asked for with it (their secrets sealed by ``seal_specs``).
    A name the environment's own gates already use is refused, naming the field."""
    if not specs:
        return
    assert deployment.id is not None
    taken = {row.name for row in gate_rows(session, deployment.environment_id)}
    for i, spec in enumerate(specs):
        if spec.gate.name in taken:
            raise ValidationFailed(
                f"{deployment.environment} already has a gate named {spec.gate.name!r}",
                field=f"gates[{i}].name",
                code="invalid_gate",
            )
        if spec.gate.kind == WEBHOOK and (spec.sealed is None or not spec.uid):
            raise ValidationFailed(
                "a webhook gate needs a secret", field=f"gates[{i}].secret", code="invalid_gate"
            )
        session.add(
            StoredGate(
                environment_id=deployment.environment_id,
                deployment_id=deployment.id,
                uid=spec.uid or new_uid(),
                name=spec.gate.name,
                kind=spec.gate.kind,
                spec=orjson.dumps(gate_to_dict(spec.gate)).decode(),
                secret_sealed=spec.sealed,
                secret_key_id=key_id_of(spec.sealed) if spec.sealed else None,
                updated_by=deployment.requested_by,
            )
        )
    session.flush()


def reseal_secrets(session: Session, keyring: KeyRing) -> int:
    """Move every gate secret sealed under an older key to the primary key (key rotation)."""
    moved = 0
    query = select(StoredGate).where(
        col(StoredGate.secret_sealed).is_not(None), col(StoredGate.secret_key_id) != keyring.primary_id
    )
    for row in session.exec(query).all():
        assert row.secret_sealed is not None
        row.secret_sealed = rewrap(keyring, row.secret_sealed, _context(row.uid))
        row.secret_key_id = key_id_of(row.secret_sealed)
        session.add(row)
        moved += 1
    return moved
