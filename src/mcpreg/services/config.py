"""Release configuration: plain variables and sealed secrets, per server, release and environment.

A value lives in one slot (``config_slots``): the whole server, one release or one
environment override. When configuration is resolved for a release in an environment,
the more specific slot wins: environment, then release, then server; a default
declared by the release's server.json fills a name nothing sets.

Secrets are write-only. They are sealed (``mcpreg.crypto``) before they reach the
database, are listed without their value or length, and are unsealed only for a
caller holding ``secrets:read``, which the journal records (who, why, never what).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from mcpreg.crypto import KeyRing, SecretContext, SecretValue, key_id_of, seal, unseal
from mcpreg.db.config_tables import Secret, Variable
from mcpreg.db.tables import Server
from mcpreg.domain.config_inputs import declared_inputs
from mcpreg.domain.principal import Principal
from mcpreg.errors import SecretDecryptFailed, ValidationFailed
from mcpreg.services import journal
from mcpreg.services.config_slots import (
    Row,
    Slot,
    check_environment,
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
from mcpreg.services.releases import get_release, get_server
from mcpreg.services.tokens import require
from mcpreg.services.views import document_of

__all__ = [
    "MASK",
    "check_environment",
    "delete_secret",
    "delete_variable",
    "effective_config",
    "get_secret",
    "get_variable",
    "list_secrets",
    "list_variables",
    "reveal_config",
    "set_secret",
    "set_variable",
]

MASK = "********"
_PRECEDENCE: dict[str, int] = {"server": 0, "release": 1, "environment": 2}


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


def _applicable(
    session: Session, model: type[Row], server: Server, version: str, environment: str
) -> dict[str, Row]:
    """Per name, the most specific row that applies to ``version`` in ``environment``."""
    rows = session.exec(
        select(model).where(
            model.server_id == server.id,
            sa.or_(
                model.scope == "server",  # type: ignore[arg-type]
                sa.and_(model.scope == "release", model.version == version),  # type: ignore[arg-type]
                sa.and_(model.scope == "environment", model.environment == environment),  # type: ignore[arg-type]
            ),
        )
    )
    chosen: dict[str, Row] = {}
    for row in rows:
        if row.scope == "environment" and not environment:
            continue
        current = chosen.get(row.name)
        if current is None or _PRECEDENCE[row.scope] > _PRECEDENCE[current.scope]:
            chosen[row.name] = row
    return chosen


def _unsealed(keyring: KeyRing, row: Secret) -> str:
    context = SecretContext(row.server_name, row.scope, row.version, row.environment, row.name)  # type: ignore[arg-type]
    try:
        return unseal(keyring, row.ciphertext, context)
    except SecretDecryptFailed as exc:
        raise SecretDecryptFailed(
            f"secret {row.name!r} ({row.scope} scope) of {row.server_name}: {exc.detail}",
            field=row.name,
            code=exc.code,
        ) from None


def effective_config(
    session: Session,
    keyring: KeyRing,
    server_name: str,
    version: str,
    environment: str | None,
    *,
    reveal: bool,
) -> dict[str, Any]:
    """The merged configuration of one release in one environment (None: no overrides).

    Secrets are unsealed only when ``reveal``; otherwise their values are masked and
    nothing is decrypted. No permission check here: callers decide who may see what.
    """
    if environment is not None:
        check_environment(environment)
    server = get_server(session, server_name)
    release = get_release(session, server, version)
    env = environment or ""
    variables = _applicable(session, Variable, server, release.version, env)
    secrets = _applicable(session, Secret, server, release.version, env)
    declared = declared_inputs(document_of(release))
    resolved: dict[str, dict[str, str]] = {
        name: {"value": row.value, "source": row.scope} for name, row in variables.items()
    }
    for name, declaration in declared.items():
        if name not in resolved and name not in secrets and declaration.default is not None:
            resolved[name] = {"value": declaration.default, "source": "default"}
    sealed = {
        name: {
            "value": _unsealed(keyring, row) if reveal else MASK,
            "source": row.scope,
            "keyId": row.key_id,
        }
        for name, row in secrets.items()
    }
    missing = sorted(
        name
        for name, declaration in declared.items()
        if declaration.required and name not in resolved and name not in sealed
    )
    return {
        "server": server.name,
        "version": release.version,
        "environment": environment,
        "variables": dict(sorted(resolved.items())),
        "secrets": dict(sorted(sealed.items())),
        "missing": missing,
    }


def reveal_config(
    session: Session,
    keyring: KeyRing,
    principal: Principal,
    server_name: str,
    version: str,
    environment: str | None,
    reason: str | None,
) -> dict[str, Any]:
    """The effective configuration with secrets in plaintext; needs ``secrets:read``.

    Journals ``config.reveal`` with who, why and which secret names, never values.
    """
    require(principal, "secrets:read", server=server_name, environment=environment)
    config = effective_config(session, keyring, server_name, version, environment, reveal=True)
    journal.record(
        session,
        principal,
        "config.reveal",
        server_name=config["server"],
        version=config["version"],
        environment=environment,
        after={"secrets": sorted(config["secrets"])},
        reason=reason,
    )
    return config
