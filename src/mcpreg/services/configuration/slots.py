"""Slots of release configuration: where a variable or secret lives, and the rules on it.

A slot is the whole server, one release (``?version=``) or one environment override
(``?environment=``). Names are environment-variable names, or exactly the name of a
header a release declares; values are strings of at most 64 KiB, never echoed back in
an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlmodel import Session, select

from mcpreg.crypto import SecretContext, SecretScope
from mcpreg.db.config_tables import ConfigSlot, Secret, Variable
from mcpreg.db.tables import Release, Server
from mcpreg.db.types import utcnow
from mcpreg.domain.config_inputs import Declaration, declared_inputs
from mcpreg.domain.environments import check_environment_name
from mcpreg.domain.principal import Principal
from mcpreg.errors import Conflict, NotFound, ValidationFailed
from mcpreg.services.environments import get_environment
from mcpreg.services.releases import get_release, get_server
from mcpreg.services.tokens import require
from mcpreg.services.views import document_of

MAX_VALUE_CHARS = 65536
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")

Row = TypeVar("Row", Variable, Secret)


@dataclass(frozen=True)
class Slot:
    """Where a value lives. ``version`` is "" unless the scope is a release, ``environment``
    is "" unless it is an environment override."""

    server: Server
    scope: SecretScope
    version: str = ""
    environment: str = ""

    @property
    def server_name(self) -> str:
        return self.server.name

    def context(self, name: str) -> SecretContext:
        return SecretContext(self.server.name, self.scope, self.version, self.environment, name)


def check_environment(value: str, field: str = "environment") -> str:
    """The environment-name rule of ``mcpreg.domain.environments``, with this API's code."""
    return check_environment_name(value, field=field, code="invalid_environment")


def resolve_slot(
    session: Session,
    server_name: str,
    *,
    version: str | None = None,
    environment: str | None = None,
    lock: bool = False,
) -> Slot:
    """The slot named by ``?version=`` / ``?environment=`` (neither: the whole server)."""
    if version is not None and environment is not None:
        raise ValidationFailed(
            "give ?version= (a release) or ?environment= (an environment override), not both",
            field="environment",
            code="ambiguous_scope",
        )
    if environment is not None:
        check_environment(environment)
        get_environment(session, environment)
    server = get_server(session, server_name, lock=lock)
    if version is not None:
        return Slot(server, "release", version=get_release(session, server, version).version)
    if environment is not None:
        return Slot(server, "environment", environment=environment)
    return Slot(server, "server")


def _release_documents(session: Session, slot: Slot) -> list[dict[str, Any]]:
    query = select(Release).where(Release.server_id == slot.server.id)
    if slot.scope == "release":
        query = query.where(Release.version == slot.version)
    return [document_of(release) for release in session.exec(query)]


def slot_declarations(session: Session, slot: Slot) -> dict[str, Declaration]:
    """What the slot's release declares, or what any release of the server declares."""
    merged: dict[str, Declaration] = {}
    for document in _release_documents(session, slot):
        for name, declaration in declared_inputs(document).items():
            merged[name] = declaration.merge(merged[name]) if name in merged else declaration
    return merged


def check_name(session: Session, slot: Slot, name: str) -> Declaration | None:
    """An environment-variable name, or exactly the name of a header a release declares."""
    declaration = slot_declarations(session, slot).get(name)
    declared_header = declaration is not None and declaration.header and len(name) <= 128
    if _NAME.fullmatch(name) or declared_header:
        return declaration
    raise ValidationFailed(
        "a name matches ^[A-Za-z_][A-Za-z0-9_]*$ (at most 128 characters), "
        "or is a header name the server's server.json declares",
        field="name",
        code="invalid_name",
    )


def check_value(value: object) -> str:
    # Never echo the value: it may be a secret sent to the wrong place.
    if value is None:
        raise ValidationFailed("the body needs a value", field="value", code="value_required")
    if not isinstance(value, str):
        raise ValidationFailed("value must be a string", field="value", code="invalid_value")
    if len(value) > MAX_VALUE_CHARS:
        raise ValidationFailed(
            f"value must be at most {MAX_VALUE_CHARS} characters", field="value", code="invalid_value"
        )
    return value


def require_write(principal: Principal, slot: Slot) -> None:
    """Publishers configure servers and releases; deployers configure their environments."""
    if slot.scope == "environment":
        require(principal, "deploy", server=slot.server_name, environment=slot.environment)
    else:
        require(principal, "publish", server=slot.server_name)


def find_row(session: Session, model: type[Row], slot: Slot, name: str) -> Row | None:
    return session.exec(
        select(model).where(
            model.server_id == slot.server.id,
            model.scope == slot.scope,
            model.version == slot.version,
            model.environment == slot.environment,
            model.name == name,
        )
    ).first()


def get_row(session: Session, model: type[Row], slot: Slot, name: str) -> Row:
    row = find_row(session, model, slot, name)
    if row is None:
        kind = model.__tablename__
        raise NotFound(
            f"{slot.server_name} has no {kind} {name!r} at {slot.scope} scope",
            field="name",
            code="variable_not_found" if model is Variable else "secret_not_found",
        )
    return row


def slot_fields(slot: Slot) -> dict[str, Any]:
    return {"scope": slot.scope, "version": slot.version or None, "environment": slot.environment or None}


@dataclass(frozen=True)
class Configured:
    """A variable or secret as listed: its name, slot and revision, who set it and when."""

    name: str
    scope: str
    version: str | None
    environment: str | None
    revision: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


def _configured(row: ConfigSlot) -> dict[str, Any]:
    return {
        "name": row.name,
        "scope": row.scope,
        "version": row.version or None,
        "environment": row.environment or None,
        "revision": row.revision,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
    }


@dataclass(frozen=True)
class VariableInfo(Configured):
    value: str

    @classmethod
    def of(cls, row: Variable) -> VariableInfo:
        return cls(**_configured(row), value=row.value)


@dataclass(frozen=True)
class SecretInfo(Configured):
    """Everything about a secret except its value and its length."""

    key_id: str

    @classmethod
    def of(cls, row: Secret) -> SecretInfo:
        return cls(**_configured(row), key_id=row.key_id)


Info = TypeVar("Info", VariableInfo, SecretInfo)


@dataclass(frozen=True)
class Kind(Generic[Row, Info]):
    """Variables or secrets: the one thing the generic functions of ``values`` are over.

    ``kept`` is what the journal keeps of a row besides its name, slot and revision: a
    variable's value, a secret's key id (never its value).
    """

    model: type[Row]
    action: str
    info: Callable[[Row], Info]
    kept: Callable[[Row], dict[str, Any]]

    def journalled(self, slot: Slot, row: Row) -> dict[str, Any]:
        return {"name": row.name, **slot_fields(slot), **self.kept(row), "revision": row.revision}


VARIABLES: Kind[Variable, VariableInfo] = Kind(
    Variable, "variable", VariableInfo.of, lambda r: {"value": r.value}
)
SECRETS: Kind[Secret, SecretInfo] = Kind(Secret, "secret", SecretInfo.of, lambda r: {"keyId": r.key_id})


def refuse_other_kind(session: Session, model: type[ConfigSlot], slot: Slot, name: str) -> None:
    """A name is a variable or a secret of a server, never both (no guessing which one wins)."""
    taken = session.exec(
        select(model.id).where(model.server_id == slot.server.id, model.name == name).limit(1)
    ).first()
    if taken is not None:
        kind = model.__tablename__
        raise Conflict(
            f"{name!r} is already a {kind} of {slot.server_name}; delete it first",
            field="name",
            code="name_is_variable" if model is Variable else "name_is_secret",
        )


def upsert_row(session: Session, principal: Principal, model: type[Row], slot: Slot, name: str) -> Row:
    now = utcnow()
    row = find_row(session, model, slot, name)
    if row is None:
        fields: dict[str, Any] = {
            "server_id": slot.server.id,
            "server_name": slot.server_name,
            "scope": slot.scope,
            "version": slot.version,
            "environment": slot.environment,
            "name": name,
            "revision": 0,
            "created_at": now,
            "created_by": principal.name,
        }
        row = model(**fields)  # the caller sets the value before the flush
    row.revision += 1
    row.updated_at = now
    row.updated_by = principal.name
    return row
