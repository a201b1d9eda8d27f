"""Setting, deleting, listing and reading variables and secrets in their slots.

A value lives in one slot (``configuration.slots``): the whole server, one release or one
environment override. Secrets are write-only: they are sealed (``mcpreg.crypto``) before
they reach the database and are listed without their value or length.

Setting differs by kind (a variable's text is checked against what the release declares
secret, a secret is sealed); deleting, listing and reading are one function each over the
``Kind`` (``slots.VARIABLES`` or ``slots.SECRETS``).
"""

from __future__ import annotations

from sqlmodel import Session, select

from mcpreg.crypto import KeyRing, SecretValue, key_id_of, seal
from mcpreg.db.config_tables import Secret, Variable
from mcpreg.domain.principal import Principal
from mcpreg.errors import ValidationFailed
from mcpreg.services import journal
from mcpreg.services.configuration.slots import (
    SECRETS,
    VARIABLES,
    Info,
    Kind,
    Row,
    SecretInfo,
    VariableInfo,
    check_name,
    check_value,
    get_row,
    refuse_other_kind,
    require_write,
    resolve_slot,
    upsert_row,
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
) -> VariableInfo:
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
        after=VARIABLES.journalled(slot, row),
    )
    return VariableInfo.of(row)


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
) -> SecretInfo:
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
        after=SECRETS.journalled(slot, row),
    )
    return SecretInfo.of(row)


def delete_value(
    session: Session,
    principal: Principal,
    kind: Kind[Row, Info],
    server_name: str,
    name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> None:
    """Delete a variable or secret from its slot (404 ``variable_not_found``/``secret_not_found``)."""
    slot = resolve_slot(session, server_name, version=version, environment=environment, lock=True)
    require_write(principal, slot)
    row = get_row(session, kind.model, slot, name)
    session.delete(row)
    session.flush()
    journal.record(
        session,
        principal,
        f"{kind.action}.delete",
        server_name=slot.server_name,
        version=slot.version or None,
        environment=slot.environment or None,
        before=kind.journalled(slot, row),
    )


def list_values(
    session: Session,
    principal: Principal,
    kind: Kind[Row, Info],
    server_name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> list[Info]:
    """Variables or secrets of every level, or only those of the release / environment asked
    for, and only of environments the caller covers. A secret: never its value or length."""
    require(principal, "read", server=server_name)
    model = kind.model
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
    return [kind.info(r) for r in rows if not r.environment or principal.covers_environment(r.environment)]


def get_value(
    session: Session,
    principal: Principal,
    kind: Kind[Row, Info],
    server_name: str,
    name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
) -> Info:
    slot = resolve_slot(session, server_name, version=version, environment=environment)
    require(principal, "read", server=server_name, environment=slot.environment or None)
    return kind.info(get_row(session, kind.model, slot, name))
