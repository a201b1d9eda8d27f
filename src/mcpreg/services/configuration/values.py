"""Setting, deleting, listing and reading variables and secrets in their slots.

A value lives in one slot (``configuration.slots``): the whole server, one release or one
environment override. Secrets are write-only: they are sealed (``mcpreg.crypto``) before
they reach the database and are listed without their value or length.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from mcpreg.crypto import KeyRing, SecretValue, key_id_of, seal
from mcpreg.db.config_tables import Secret, Variable
from mcpreg.domain.principal import Principal
from mcpreg.errors import ValidationFailed
from mcpreg.services import journal
from mcpreg.services.configuration.slots import (
    Row,
    Slot,
    check_name,
    check_value,
    get_row,
    refuse_other_kind,
    require_write,
    resolve_slot,
    secret_view,
    slot_fields,
    upsert_row,
    variable_view,
)
from mcpreg.services.releases import get_server
from mcpreg.services.tokens import require


def set_variable(
    session: Session,
    principal: Principal,
    server_name: str,
    name: str,
    value: object,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> dict[str, Any]:
    """Create or replace a plain variable; refused for a name the release declares secret."""
    text = check_value(value)
    slot = resolve_slot(session, server_name, version=version, environment=environment, lock=True)
    require_write(principal, slot)
    declaration = check_name(session, slot, name)
    if declaration is not None and declaration.secret:
        raise ValidationFailed(
            f"{name!r} is declared secret by the server's server.json: set it as a secret",
            field="name",
            code="declared_secret",
        )
    refuse_other_kind(session, Secret, slot, name)
    row = upsert_row(session, principal, Variable, slot, name)
    before = row.value if row.id is not None else None
    row.value = text
    session.add(row)
    session.flush()
    journal.record(
        session,
        principal,
        "variable.set",
        server_name=slot.server_name,
        version=slot.version or None,
        environment=slot.environment or None,
        before=None if before is None else {"name": name, "value": before},
        after={"name": name, **slot_fields(slot), "value": text, "revision": row.revision},
    )
    return variable_view(row)


def set_secret(
    session: Session,
    keyring: KeyRing,
    principal: Principal,
    server_name: str,
    name: str,
    value: SecretValue,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> dict[str, Any]:
    """Seal and store a secret under the primary key; the journal gets its metadata only."""
    check_value(value.reveal())
    slot = resolve_slot(session, server_name, version=version, environment=environment, lock=True)
    require_write(principal, slot)
    check_name(session, slot, name)
    refuse_other_kind(session, Variable, slot, name)
    row = upsert_row(session, principal, Secret, slot, name)
    row.ciphertext = seal(keyring, value, slot.context(name))
    row.key_id = key_id_of(row.ciphertext)
    session.add(row)
    session.flush()
    journal.record(
        session,
        principal,
        "secret.set",
        server_name=slot.server_name,
        version=slot.version or None,
        environment=slot.environment or None,
        after={"name": name, **slot_fields(slot), "keyId": row.key_id, "revision": row.revision},
    )
    return secret_view(row)


def _delete(session: Session, principal: Principal, model: type[Row], slot: Slot, name: str) -> Row:
    require_write(principal, slot)
    row = get_row(session, model, slot, name)
    session.delete(row)
    session.flush()
    return row


def delete_variable(
    session: Session,
    principal: Principal,
    server_name: str,
    name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> None:
    slot = resolve_slot(session, server_name, version=version, environment=environment, lock=True)
    row = _delete(session, principal, Variable, slot, name)
    journal.record(
        session,
        principal,
        "variable.delete",
        server_name=slot.server_name,
        version=slot.version or None,
        environment=slot.environment or None,
        before={"name": name, **slot_fields(slot), "value": row.value, "revision": row.revision},
    )


def delete_secret(
    session: Session,
    principal: Principal,
    server_name: str,
    name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> None:
    slot = resolve_slot(session, server_name, version=version, environment=environment, lock=True)
    row = _delete(session, principal, Secret, slot, name)
    journal.record(
        session,
        principal,
        "secret.delete",
        server_name=slot.server_name,
        version=slot.version or None,
        environment=slot.environment or None,
        before={"name": name, **slot_fields(slot), "keyId": row.key_id, "revision": row.revision},
    )


def _listed(
    session: Session,
    principal: Principal,
    model: type[Row],
    server_name: str,
    version: str | None,
    environment: str | None,
) -> list[Row]:
    """Rows of every scope, or only those of the release / environment asked for."""
    require(principal, "read", server=server_name)
    query = select(model)
    if version is None and environment is None:
        query = query.where(model.server_id == get_server(session, server_name).id)
    else:
        slot = resolve_slot(session, server_name, version=version, environment=environment)
        query = query.where(
            model.server_id == slot.server.id,
            model.scope == slot.scope,
            model.version == slot.version,
            model.environment == slot.environment,
        )
    rows = session.exec(query.order_by(model.name, model.scope, model.version, model.environment))
    return [r for r in rows if not r.environment or principal.covers_environment(r.environment)]


def list_variables(
    session: Session,
    principal: Principal,
    server_name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> list[dict[str, Any]]:
    return [
        variable_view(r) for r in _listed(session, principal, Variable, server_name, version, environment)
    ]


def list_secrets(
    session: Session,
    principal: Principal,
    server_name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> list[dict[str, Any]]:
    """Secrets' metadata: name, scope, key id, who set it and when, revision. Never values."""
    rows = _listed(session, principal, Secret, server_name, version, environment)
    return [secret_view(r) for r in rows]


def get_variable(
    session: Session,
    principal: Principal,
    server_name: str,
    name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> dict[str, Any]:
    slot = resolve_slot(session, server_name, version=version, environment=environment)
    require(principal, "read", server=server_name, environment=slot.environment or None)
    return variable_view(get_row(session, Variable, slot, name))


def get_secret(
    session: Session,
    principal: Principal,
    server_name: str,
    name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> dict[str, Any]:
    slot = resolve_slot(session, server_name, version=version, environment=environment)
    require(principal, "read", server=server_name, environment=slot.environment or None)
    return secret_view(get_row(session, Secret, slot, name))
